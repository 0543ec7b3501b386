"""A committed cell event reaches the streams at once on PostgreSQL: the commit notifies the
process's event hub, naming its database, and the hub gives the event its position and wakes
that database's streams; nobody polls for it, and other databases' streams sleep on. On SQLite
the hub does not listen and the streams poll."""

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
def test_a_committed_event_wakes_its_databases_streams_with_its_position_given(
    api: Caller, store: Store, hub: EventHub
) -> None:
    database = make_database(api, NOTES_DB)
    other = make_database(api, {**NOTES_DB, "name": "Elsewhere"})
    if store.dialect != "postgresql":
        assert not _listening(hub)  # SQLite: no notifications; the streams poll
        return
    assert _listening(hub)
    woken: dict[str, float] = {}

    def stream(database_id: str, ready: threading.Event) -> None:
        with hub.watching(database_id):
            seen = hub.generation(database_id)
            ready.set()
            if hub.wait(database_id, seen, 3) != seen:
                woken[database_id] = time.monotonic()

    readies = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=stream, args=(d["id"], r))
        for d, r in zip((database, other), readies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for ready in readies:
        ready.wait(5)
    committed = time.monotonic()
    row = _row(api, database["id"], "A new page.")  # commits a pending cell's event
    for thread in threads:
        thread.join(10)
    assert database["id"] in woken, "the stream was not woken"
    assert woken[database["id"]] - committed < 1.0
    assert other["id"] not in woken  # another database's events wake only their own streams
    # Positioned by the hub before it woke anyone: a reader needs no stamp of its own.
    with store.transaction() as session:
        feed = events.events_after(session, database["id"], 0)
    assert [(e.row_id, e.status) for e in feed] == [(row["id"], "pending")]
    assert feed[0].position is not None


@pytest.mark.real_time
def test_a_wait_without_events_ends_at_its_timeout(store: Store, hub: EventHub) -> None:
    seen = hub.generation("db_quiet")
    started = time.monotonic()
    assert hub.wait("db_quiet", seen, 0.2) == seen
    assert 0.15 <= time.monotonic() - started < 2.0


@pytest.mark.real_time
def test_stopping_wakes_the_waiting_streams(store: Store, hub: EventHub) -> None:
    seen = hub.generation("db_quiet")
    threading.Timer(0.1, hub.stop).start()
    started = time.monotonic()
    hub.wait("db_quiet", seen, 10)
    assert time.monotonic() - started < 2.0
