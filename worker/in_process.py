"""Embedded mode: the dispatcher and a Celery worker as threads of the calling process.

With no Redis configured the Celery app uses its in-memory transport, which only works inside
one process: so `autofill demo` (and anyone running without infrastructure) gets API,
dispatcher and worker together, on the same code paths as the distributed topology.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from celery import Celery
from celery.contrib.testing.worker import start_worker

from autofill.config import Settings
from autofill.db import Store
from autofill.fills import Dispatcher, shared_limiter
from autofill.llm import Completer
from worker import runtime


@contextmanager
def embedded(store: Store, settings: Settings, *, concurrency: int = 16) -> Iterator[Dispatcher]:
    from worker import tasks
    from worker.celery_app import QUEUES, app

    runtime.install(
        runtime.Runtime(settings, store, Completer(shared_limiter())), in_flight=concurrency
    )
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=60.0,
    ):
        dispatcher = Dispatcher(store, tasks.send_fills, settings)
        thread = dispatcher.start_thread()
        try:
            yield dispatcher
        finally:
            dispatcher.stop()
            thread.join(timeout=30)
            # The soft shutdown: fills running finish; the messages still queued in memory
            # would be lost with this process, so each is let start, sees the worker stopping
            # and hands its fill back to the outbox, due now for the next start.
            runtime.stopping.set()
            _drain(app, list(QUEUES.values()))


def _drain(app: Celery, queues: list[str], timeout_s: float = 30.0) -> None:
    """Wait until the in-memory queues are empty (their fills handed back)."""
    deadline = time.monotonic() + timeout_s
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        while time.monotonic() < deadline:
            if not any(channel._size(queue) for queue in queues):  # type: ignore[attr-defined]
                return
            time.sleep(0.02)


def start_embedded(store: Store, settings: Settings, *, concurrency: int = 16) -> ExitStack:
    """``embedded`` for a process that runs until it exits (``autofill serve`` with no Redis):
    close the returned stack to stop."""
    stack = ExitStack()
    stack.enter_context(embedded(store, settings, concurrency=concurrency))
    return stack
