"""What one worker process shares between its threads: settings, the store, the completer.

Built on first use from the environment; embedded mode (one process running API, dispatcher
and worker) installs its own with ``install`` so every part uses the same store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from autofill.config import Settings, get_settings
from autofill.db import Store
from autofill.llm import Completer
from autofill.services import open_store


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    completer: Completer


_lock = threading.Lock()
_current: Runtime | None = None
# Set when the worker begins to stop (Celery's warm shutdown, or embedded mode closing): fills
# already running finish; a fill not yet started is handed back to the outbox instead.
stopping = threading.Event()


def worker_store(settings: Settings) -> Store:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        return open_store(url)
    # Each fill holds a connection only for its two short transactions, never during the
    # model call, so a pool well below the thread count keeps every thread going. No
    # pre-ping (two round trips per fill): a fill's transactions run through ``Store.run``,
    # which runs a transaction again when its connection turns out dead.
    size = max(5, min(settings.worker_concurrency // 4, 40))
    return open_store(url, pool_size=size, max_overflow=size, pool_pre_ping=False)


def current() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            settings = get_settings()
            _current = Runtime(settings, worker_store(settings), Completer())
        return _current


def install(runtime: Runtime) -> None:
    global _current
    with _lock:
        _current = runtime
        stopping.clear()
