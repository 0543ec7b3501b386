"""`autofill dispatcher`'s store: its transactions, like a worker's, end after seconds idle;
`autofill worker`'s options."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from autofill.config import Settings, use_settings
from cli.worker import _dispatcher, worker


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


def test_more_worker_processes_than_fills_in_flight_is_refused(tmp_path: Path) -> None:
    before = use_settings(Settings(data_dir=tmp_path, redis_url=None))
    try:
        result = CliRunner().invoke(worker, ["--processes", "4", "--concurrency", "2"])
    finally:
        use_settings(before)
    assert result.exit_code == 2
    assert "--processes" in result.output and "--concurrency" in result.output
