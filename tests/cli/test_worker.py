"""`autofill dispatcher`'s store: its transactions, like a worker's, end after seconds idle."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from autofill.config import Settings, use_settings
from cli.worker import _dispatcher


def test_the_dispatcher_s_idle_transactions_end_after_seconds(
    postgres_url: str, tmp_path: Path
) -> None:
    before = use_settings(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=None))
    try:
        dispatcher = _dispatcher()
        with dispatcher.store.engine.connect() as connection:
            found = connection.scalar(text("SHOW idle_in_transaction_session_timeout"))
        dispatcher.store.dispose()
    finally:
        use_settings(before)
    assert found == "5s"
