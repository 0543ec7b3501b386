"""What one worker process shares between its threads: settings, the store, the completer.

Built on first use from the environment; embedded mode (one process running API, dispatcher
and worker) installs its own with ``install`` so every part uses the same store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from autofill.config import Settings, get_settings
from autofill.db import SHORT_TRANSACTIONS, Store
from autofill.fills import Calls, shared_limiter
from autofill.llm import Completer
from autofill.services import open_store


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    completer: Completer


_lock = threading.Lock()
_current: Runtime | None = None
_calls: Calls | None = None
# Fills in flight in this process: ``autofill worker --concurrency`` (else the settings').
_in_flight: int | None = None
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
    return open_store(
        url,
        pool_size=size,
        max_overflow=size,
        pool_pre_ping=False,
        server_side=SHORT_TRANSACTIONS,
    )


def current() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            settings = get_settings()
            _current = Runtime(settings, worker_store(settings), Completer(shared_limiter()))
        return _current


def calls() -> Calls:
    """The threads that make bulk groups' model calls, one per fill in flight, made once."""
    global _calls
    settings = current().settings
    with _lock:
        if _calls is None:
            in_flight = _in_flight or settings.worker_concurrency
            _calls = Calls(in_flight, settings.bulk_group_size, settings.bulk_record_linger_s)
        return _calls


def set_in_flight(in_flight: int) -> None:
    global _in_flight
    _in_flight = in_flight


def task_threads(lane: str, in_flight: int, group_size: int) -> int:
    """Celery's threads for ``in_flight`` fills: one per fill where people's edits come (each
    runs on its task's thread), a few for bulk-only workers, whose groups wait on their
    calls (``calls``) with their task's thread free to claim and record."""
    if lane != "bulk":
        return in_flight
    return max(2, -(-in_flight // group_size) + 1)


def install(runtime: Runtime, *, in_flight: int | None = None) -> None:
    global _current, _calls
    with _lock:
        _current = runtime
        if _calls is not None:
            _calls.close(wait=False)
        _calls = None
        set_in_flight(in_flight or runtime.settings.worker_concurrency)
        stopping.clear()
