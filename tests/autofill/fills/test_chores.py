"""The chore lease on both databases: one holder at a time, renewed by its holder, taken over
with a higher fencing number once expired, given up on a clean stop; a sweep stops where its
lease was lost."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from autofill.config import Settings
from autofill.db import Store
from autofill.fills import chores, upkeep


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
