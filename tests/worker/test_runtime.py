"""A worker process's shape: Celery's task threads for its lane, and the call threads that a
bulk group's model calls run on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from autofill.config import Settings
from autofill.services.store import open_store
from worker.runtime import task_threads, worker_store


def test_people_s_edits_get_a_thread_per_fill_in_flight() -> None:
    assert task_threads("interactive", 10, 20) == 10
    assert task_threads("both", 100, 20) == 100  # edits come here too


def test_a_bulk_worker_needs_a_thread_per_group_and_one_to_claim_ahead() -> None:
    assert task_threads("bulk", 100, 20) == 6  # five groups in flight, one claiming
    assert task_threads("bulk", 101, 20) == 7
    assert task_threads("bulk", 4, 20) == 2  # never fewer than two


def test_a_worker_s_transactions_end_after_seconds_idle_the_api_s_after_a_minute(
    postgres_url: str, tmp_path: Path
) -> None:
    """A worker cut off inside a transaction must not keep a row's locks (and a person's edit of
    that row) waiting; the server itself ends its idle transactions (SCALING.md)."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=None)
    show = text("SHOW idle_in_transaction_session_timeout")
    worker = worker_store(settings)
    api = open_store(postgres_url)
    try:
        with worker.engine.connect() as connection:
            assert connection.scalar(show) == "5s"
        with api.engine.connect() as connection:
            assert connection.scalar(show) == "1min"
    finally:
        worker.dispose()
        api.dispose()
