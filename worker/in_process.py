"""Embedded mode: the dispatcher and a Celery worker as threads of the calling process.

With no Redis configured the Celery app uses its in-memory transport, which only works inside
one process: so `autofill demo` (and anyone running without infrastructure) gets API,
dispatcher and worker together, on the same code paths as the distributed topology.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from celery.contrib.testing.worker import start_worker

from autofill.config import Settings
from autofill.db import Store
from autofill.fills import Dispatcher
from autofill.llm import Completer
from worker import runtime


@contextmanager
def embedded(store: Store, settings: Settings, *, concurrency: int = 16) -> Iterator[Dispatcher]:
    from worker import tasks
    from worker.celery_app import app

    runtime.install(runtime.Runtime(settings, store, Completer()))
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=60.0,
    ):
        dispatcher = Dispatcher(store, tasks.send_fill, settings)
        thread = dispatcher.start_thread()
        try:
            yield dispatcher
        finally:
            dispatcher.stop()
            thread.join(timeout=30)


def start_embedded(store: Store, settings: Settings, *, concurrency: int = 16) -> ExitStack:
    """``embedded`` for a process that runs until it exits (``autofill serve`` with no Redis):
    close the returned stack to stop."""
    stack = ExitStack()
    stack.enter_context(embedded(store, settings, concurrency=concurrency))
    return stack
