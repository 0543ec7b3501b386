"""A committed cell event reaches the streams at once on PostgreSQL: the commit notifies the
process's event hub, which gives the event its position and wakes the waiting streams; nobody
polls for it. On SQLite the hub does not listen and the streams poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from autofill.db.session import Store
from autofill.fills import events
from autofill.fills.event_hub import EventHub
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database


@pytest.fixture
def hub(store: Store) -> Iterator[EventHub]:
    running = EventHub(store)
    running.start()
    yield running
    running.stop()


def _listening(hub: EventHub) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not hub.listening:
        time.sleep(0.02)
    return hub.listening


@pytest.mark.real_time  # the hub's thread waits on the system's clock
def test_a_committed_event_wakes_the_streams_with_its_position_given(
    api: Caller, store: Store, hub: EventHub
) -> None:
    database = make_database(api, NOTES_DB)
    if store.dialect != "postgresql":
        assert not _listening(hub)  # SQLite: no notifications; the streams poll
        return
    assert _listening(hub)
    time.sleep(0.1)  # any notification of the database's creation is handled
    seen = hub.generation
    woken: list[float] = []

    def waiter() -> None:
        hub.wait(seen, 10)
        woken.append(time.monotonic())

    thread = threading.Thread(target=waiter)
    thread.start()
    committed = time.monotonic()
    row = _row(api, database["id"], "A new page.")  # commits a pending cell's event
    thread.join(10)
    assert woken, "the stream was not woken"
    assert woken[0] - committed < 1.0
    # Positioned by the hub before it woke anyone: a reader needs no stamp of its own.
    with store.transaction() as session:
        feed = events.events_after(session, database["id"], 0)
    assert [(e.row_id, e.status) for e in feed] == [(row["id"], "pending")]
    assert feed[0].position is not None


@pytest.mark.real_time
def test_a_wait_without_events_ends_at_its_timeout(store: Store, hub: EventHub) -> None:
    seen = hub.generation
    started = time.monotonic()
    assert hub.wait(seen, 0.2) == seen
    assert 0.15 <= time.monotonic() - started < 2.0


@pytest.mark.real_time
def test_stopping_wakes_the_waiting_streams(store: Store, hub: EventHub) -> None:
    seen = hub.generation
    threading.Timer(0.1, hub.stop).start()
    started = time.monotonic()
    assert hub.wait(seen, 10) != seen
    assert time.monotonic() - started < 2.0
