"""The dispatcher does not wait for its next poll: it sleeps until the earliest due fill (a
debounce ending), and on PostgreSQL a fill due now wakes it at once (LISTEN/NOTIFY). With a
polling interval of 30 s, fills still reach the queue within a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from autofill.config import Settings
from autofill.db.session import Store
from autofill.fills.dispatch import Dispatcher
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database


@contextmanager
def _running(
    store: Store, settings: Settings
) -> Iterator[tuple[Dispatcher, list[float], threading.Event]]:
    sent: list[float] = []
    arrived = threading.Event()

    def send(*_: object) -> None:
        sent.append(time.monotonic())
        arrived.set()

    dispatcher = Dispatcher(store, send, settings.model_copy(update={"dispatch_interval_s": 30.0}))
    thread = dispatcher.start_thread()
    try:
        yield dispatcher, sent, arrived
    finally:
        dispatcher.stop()
        thread.join(5)


@pytest.mark.real_time  # a dispatcher thread sleeping on the system's clock
def test_the_dispatcher_sleeps_until_the_next_due_fill(
    fill_api: Caller, store: Store, fill_settings: Settings
) -> None:
    fill_api.client.application.extensions["autofill.settings"] = fill_settings.model_copy(
        update={"debounce_s": 0.5}
    )
    database = make_database(fill_api, NOTES_DB)
    created = time.monotonic()
    _row(fill_api, database["id"], "Due in half a second.")
    with _running(store, fill_settings) as (_, sent, arrived):
        assert arrived.wait(5), "the dispatcher slept past the fill's due time"
        assert 0.4 <= sent[0] - created < 2.0


@pytest.mark.real_time
def test_a_fill_due_now_wakes_the_dispatcher(
    fill_api: Caller, store: Store, fill_settings: Settings
) -> None:
    database = make_database(fill_api, NOTES_DB)  # no rows yet: nothing due
    with _running(store, fill_settings) as (dispatcher, sent, arrived):
        time.sleep(0.3)  # the first pass is done: asleep for up to 30 s
        if store.dialect != "postgresql":
            # SQLite has no notifications: the dispatcher polls (in the embedded mode it runs
            # beside the API, with a short interval).
            assert not dispatcher.waker.listening
            return
        assert dispatcher.waker.listening
        created = time.monotonic()
        _row(fill_api, database["id"], "Wake up.")
        assert arrived.wait(5), "the dispatcher slept through the notification"
        assert sent[0] - created < 1.0


@pytest.mark.real_time
def test_dispatching_does_not_wait_for_a_stuck_sweep(
    fill_api: Caller, store: Store, fill_settings: Settings
) -> None:
    """The sweep's chores (folding the ledger, vacuuming) can take seconds; they run beside
    the dispatch loop, not in it. Here the sweep is stuck behind a lock on the ledger."""
    if store.dialect != "postgresql":
        pytest.skip("table locks that block another connection: PostgreSQL")
    database = make_database(fill_api, NOTES_DB)
    with store.engine.connect() as holder:
        holder.exec_driver_sql("BEGIN")
        holder.exec_driver_sql("LOCK TABLE fill_ledger IN ACCESS EXCLUSIVE MODE")
        with _running(store, fill_settings) as (_, sent, arrived):
            time.sleep(0.3)  # the sweep has started and waits for the lock
            created = time.monotonic()
            _row(fill_api, database["id"], "Dispatched while the sweep is stuck.")
            assert arrived.wait(5), "dispatching waited for the sweep"
            assert sent[0] - created < 1.0
        holder.exec_driver_sql("ROLLBACK")
