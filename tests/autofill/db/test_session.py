"""Store.run: a transaction whose connection died is run again on a fresh one.

The worker's pool does not ping connections before use, so this is what keeps a fill's
transaction (and the answer the model was paid for) alive across a database restart. The
connection is killed for real, by the server (pg_terminate_backend)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from autofill.db.migrate import upgrade
from autofill.db.models import Workspace
from autofill.db.session import Store
from autofill.services.store import open_store
from tests.conftest import POSTGRES_ADMIN


@pytest.fixture
def unpinged(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url, pool_size=2, max_overflow=0, pool_pre_ping=False)
    upgrade(store)
    yield store
    store.dispose()


def _backend_pid(store: Store) -> int:
    with store.transaction() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_transaction_on_a_killed_connection_runs_again_on_a_new_one(unpinged: Store) -> None:
    killed = _backend_pid(unpinged)  # the pool now holds this connection
    _terminate(killed)
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(1)
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())

    assert unpinged.run(work) != killed
    assert len(attempts) == 2  # the dead connection's try, then the fresh one's


def test_without_run_the_dead_connection_is_an_error(unpinged: Store) -> None:
    # What Store.run is for: the same kill fails a plain transaction.
    _terminate(_backend_pid(unpinged))
    with pytest.raises(DBAPIError) as caught, unpinged.transaction() as session:
        session.execute(text("SELECT 1"))
    assert caught.value.connection_invalidated


def test_other_errors_are_not_retried(unpinged: Store) -> None:
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(1)
        session.add(Workspace(id="ws_same", name="a"))
        session.flush()
        session.add(Workspace(id="ws_same", name="b"))
        session.flush()

    with pytest.raises(IntegrityError):
        unpinged.run(work)
    assert len(attempts) == 1
    with unpinged.transaction() as session:  # rolled back as a whole
        assert session.get(Workspace, "ws_same") is None


def test_postgres_connections_fail_in_seconds_when_the_server_goes_silent(
    postgres_url: str,
) -> None:
    """Keepalives and tcp_user_timeout reach the server's connection (SCALING.md: a worker cut
    off from PostgreSQL must not wait minutes for TCP's retransmissions); a URL's own value for
    one of them wins."""
    store = Store(postgres_url)
    try:
        with store.engine.connect() as connection:
            params = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert params["tcp_user_timeout"] == "20000"
            assert params["keepalives_idle"] == "10"
            # The server's side of the same connection, and the idle-in-transaction backstop.
            for setting, value in (
                ("tcp_keepalives_idle", "10"),
                ("tcp_user_timeout", "20000"),
                ("idle_in_transaction_session_timeout", "1min"),
            ):
                assert connection.exec_driver_sql(f"SHOW {setting}").scalar() == value
    finally:
        store.dispose()
    mine = Store(f"{postgres_url}?keepalives_idle=42")
    try:
        with mine.engine.connect() as connection:
            params = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert params["keepalives_idle"] == "42"
            assert params["tcp_user_timeout"] == "20000"
    finally:
        mine.dispose()
