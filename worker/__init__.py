"""The Celery adapter: the app and its delivery settings (celery_app), thin tasks that fill
cells by ids (tasks), the process's runtime (runtime), embedded mode, where the dispatcher
and a worker run as threads of the calling process (in_process), and the parent that forks
several workers after loading what they share (supervisor, memory).

What other packages use comes from here. The names load on first use (PEP 562): building the
Celery app reads the settings and configures its transport, which a process that only runs
embedded, or only imports the runtime, should not pay for or depend on.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_FROM = {
    "app": "worker.celery_app",
    "queues_for_lane": "worker.celery_app",
    "send_fills": "worker.tasks",
    "set_in_flight": "worker.runtime",
    "task_threads": "worker.runtime",
    "embedded": "worker.in_process",
    "start_embedded": "worker.in_process",
    "Supervisor": "worker.supervisor",
    "indexed_celery_args": "worker.supervisor",
    "split_in_flight": "worker.supervisor",
    "limit_malloc_arenas": "worker.memory",
    "collect_less_often": "worker.collector",
}

__all__ = [
    "Supervisor",
    "app",
    "collect_less_often",
    "embedded",
    "indexed_celery_args",
    "limit_malloc_arenas",
    "queues_for_lane",
    "send_fills",
    "set_in_flight",
    "split_in_flight",
    "start_embedded",
    "task_threads",
]


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module 'worker' has no attribute {name!r}")
    return getattr(import_module(_FROM[name]), name)
