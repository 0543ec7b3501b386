"""The chore lease on both databases: one holder at a time, renewed by its holder, taken over
with a higher fencing number once expired, given up on a clean stop; a sweep stops where its
lease was lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import SHORT_TRANSACTIONS, ChoreLease, Store
from autofill.db.migrate import upgrade
from autofill.fills import chores, upkeep
from autofill.services.store import open_store


def _take(store: Store, holder: str, lease_s: float = 30.0) -> int | None:
    with store.transaction() as session:
        return chores.take(session, chores.SWEEP, holder, lease_s)


def test_one_holder_at_a_time_and_its_own_renewals_keep_the_fencing(store: Store) -> None:
    assert _take(store, "a") == 1
    assert _take(store, "b") is None  # a holds it
    assert _take(store, "a") == 1  # a's heartbeat
    with store.transaction() as session:
        assert chores.renew(session, chores.SWEEP, "a", 1, 30.0)
        assert not chores.renew(session, chores.SWEEP, "b", 1, 30.0)


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(store: Store) -> None:
    assert _take(store, "a", lease_s=0.3) == 1
    assert _take(store, "b") is None
    time.sleep(0.6)  # a died: no heartbeat
    assert _take(store, "b") == 2
    with store.transaction() as session:
        assert not chores.renew(session, chores.SWEEP, "a", 1, 30.0)  # a came back: not its
        lease = chores.current(session, chores.SWEEP)
        assert lease is not None and lease.holder == "b" and lease.fencing == 2


def test_a_released_lease_is_free_at_once(store: Store) -> None:
    assert _take(store, "a") == 1
    with store.transaction() as session:
        chores.release(session, chores.SWEEP, "b")  # not b's to give
    assert _take(store, "b") is None
    with store.transaction() as session:
        chores.release(session, chores.SWEEP, "a")
    assert _take(store, "b") == 2


def test_the_keeper_holds_beats_and_gives_the_lease_up_when_stopped(store: Store) -> None:
    stopping = threading.Event()
    keeper = chores.LeaseKeeper(store, chores.SWEEP, 0.6, stopping)
    other = chores.LeaseKeeper(store, chores.SWEEP, 0.6, threading.Event())
    thread = threading.Thread(target=keeper.run)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not keeper.held and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.held
        time.sleep(1.5)  # over two lease lengths: only the heartbeat keeps it
        other.beat()
        assert not other.held
    finally:
        stopping.set()
        thread.join(5)
    assert not keeper.held
    other.beat()
    assert other.held and other.fencing == 2


def test_a_sweep_does_nothing_once_its_lease_is_lost(store: Store, settings: Settings) -> None:
    asked: list[Session] = []

    def lost(session: Session) -> bool:
        asked.append(session)
        return False

    assert upkeep.sweep(store, settings, lost) == upkeep.Swept()
    assert len(asked) == 1


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    """Row locks that outlive their client are PostgreSQL's (SQLite locks the whole file, on
    one host): this test needs the real server."""
    store = open_store(postgres_url)
    upgrade(store)
    yield store
    with store.transaction() as session:
        session.execute(delete(ChoreLease))
    store.dispose()


def test_a_holder_gone_quiet_inside_a_lease_transaction_does_not_hold_off_the_takeover(
    postgres_store: Store,
) -> None:
    """A holder cut off between renewing the lease and committing (its packets dropped) cannot
    end its transaction; its row lock must not outlive the lease by the ~20 s the server takes
    to find the connection dead. Here the holder's session simply stops talking."""
    store, lease_s = postgres_store, 0.5
    with store.transaction() as session:
        session.execute(delete(ChoreLease))
    assert _take(store, "a", lease_s=lease_s) == 1
    quiet = store.sessions()
    try:
        assert chores.renew(quiet, chores.SWEEP, "a", 1, lease_s)  # locks the lease row
        started = time.monotonic()
        taken: int | None = None
        while taken is None and time.monotonic() - started < 10:
            taken = _take(store, "b", lease_s=30.0)  # waits on the lock while it is held
            if taken is None:
                time.sleep(lease_s / 3)
        waited = time.monotonic() - started
        assert taken == 2
        # The lease's length after its renewal, a third of it between tries, and slack: far
        # below the ~20 s in which the server would find a dead connection by itself.
        assert waited < 3 * lease_s + 1.0, waited
        with pytest.raises(DBAPIError):  # the server ended the quiet transaction
            quiet.commit()
    finally:
        quiet.close()


def test_a_lease_transaction_s_idle_timeout_is_lowered_to_the_lease_never_raised(
    postgres_store: Store,
) -> None:
    """The lease's length bounds its transactions' idle time, but a session that ends idle
    transactions sooner (a dispatcher's 5 s) keeps its own."""
    store = postgres_store
    with store.transaction() as session:
        session.execute(delete(ChoreLease))
    show = text("SHOW idle_in_transaction_session_timeout")
    for lease_s, expected in ((0.5, "500ms"), (30.0, "30s"), (120.0, "1min")):
        with store.transaction() as session:
            chores.take(session, chores.SWEEP, "a", lease_s)
            assert session.scalar(show) == expected, lease_s
        with store.transaction() as session:
            assert session.scalar(show) == "1min"  # this transaction only
    short = open_store(store.url, server_side=SHORT_TRANSACTIONS)
    try:
        with short.transaction() as session:
            assert chores.renew(session, chores.SWEEP, "a", 1, 30.0)
            assert session.scalar(show) == "5s"
    finally:
        short.dispose()
