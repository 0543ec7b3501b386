"""Engine and session factory, with the per-dialect settings that keep writes safe."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions lazily and as DEFERRED, so two
    # writers that both read first deadlock on upgrade ("database is locked"). Take over:
    # autocommit at the driver, and BEGIN IMMEDIATE so a writer waits (busy_timeout) instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A connection to a server that went silent (a network partition, a host gone without closing
# its connections) must fail in seconds, not hang for the kernel's retransmission timeout: a
# worker cut off for a minute stayed deaf for 50 s more after the link came back, its threads
# waiting on writes the kernel retried with exponential backoff (tests/worker/test_multi_host.py,
# SCALING.md). libpq's keepalive probes find a dead idle connection; tcp_user_timeout fails a
# write unacknowledged for that long (libpq's "Parameter Key Words").
#
# The server needs the same on its side of each connection: a worker cut off in the middle of a
# transaction leaves its backend waiting, holding the row locks, and a person's edit of that
# row waits behind them until the server's own keepalive (two hours by default) gives up. So
# each session sets the server's keepalives and tcp_user_timeout too, and an idle-in-transaction
# timeout as the backstop (our transactions never wait on anything but the database). A URL's
# own values win: a pooler that refuses the ``options`` startup parameter (PgBouncer, unless
# told to ignore it) takes ``?options=`` in AUTOFILL_DATABASE_URL.
SERVER_SIDE = {
    "tcp_keepalives_idle": 10,
    "tcp_keepalives_interval": 5,
    "tcp_keepalives_count": 3,
    "tcp_user_timeout": 20_000,
    "idle_in_transaction_session_timeout": 60_000,
}
# The worker's and the dispatcher's transactions are a few statements each, never waiting on a
# model call: one left idle for seconds belongs to a process that was cut off or hangs, and the
# row locks it holds keep a person's edit of that row waiting (up to the ~20 s above). So
# theirs end sooner; the API's and the CLI's keep the minute (an import, an eval run).
SHORT_TRANSACTIONS = {"idle_in_transaction_session_timeout": 5_000}
POSTGRES_TCP: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}


def _options(server_side: Mapping[str, int]) -> str:
    return " ".join(f"-c {name}={value}" for name, value in server_side.items())


def make_engine(url: str, *, server_side: Mapping[str, int] | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; on PostgreSQL ``server_side`` overrides settings of SERVER_SIDE."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    given = make_url(url).query
    tcp = {**POSTGRES_TCP, "options": _options({**SERVER_SIDE, **(server_side or {})})}
    connect_args = {k: v for k, v in tcp.items() if k not in given}
    kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


class Store:
    """An engine plus its session factory: the one handle every adapter passes around.
    The service opens it with autofill.services.store.open_store, which attaches the feed of
    cell changes; a bare Store (migrations, maintenance) writes none."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    def run(self, work: Callable[[Session], T], *, attempts: int = 4) -> T:
        """``work`` in a transaction, run again on a fresh connection if the first one turns
        out to be dead (the database restarted, a connection was cut). A pool without
        pre-ping (the worker's: it saves two round trips per fill) relies on this; the
        transaction rolled back, so running it again is safe."""

        def once() -> T:
            with self.transaction() as session:
                return work(session)

        try:
            return once()
        except DBAPIError as error:
            if not _lost_connection(error):
                raise
        # The common case above costs nothing extra; only a lost connection gets the retrier,
        # and only then imports it (5-6 ms of every CLI command's start).
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception(_lost_connection),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=stop_after_attempt(attempts - 1),
            reraise=True,
        )
        return retrying(once)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _lost_connection(error: BaseException) -> bool:
    # SQLAlchemy marks an error that came from a dead connection, and has then dropped the
    # pool's other connections of the same age.
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
