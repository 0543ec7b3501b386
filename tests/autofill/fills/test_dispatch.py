"""The dispatcher and the sweeper: batches, several dispatchers, a broken queue, lost
messages and dead workers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from autofill.clock import FakeClock
from autofill.db.models import OutboxEntry
from autofill.db.types import utcnow
from autofill.fills.dispatch import dispatch_due
from autofill.kinds import EntryState, Outcome
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import NOTES_DB, _cell, _row
from tests.conftest import Caller
from tests.helpers import make_database


def _states(pipeline: Pipeline) -> list[str]:
    with pipeline.store.transaction() as session:
        return sorted(session.scalars(select(OutboxEntry.state)))


def test_a_broken_queue_leaves_the_entries_in_the_outbox(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "Queued while Redis is down.")

    def broken(*_: object) -> None:
        raise ConnectionError("Redis is down")

    with pytest.raises(ConnectionError):
        dispatch_due(pipeline.store, broken, pipeline.settings)
    assert _states(pipeline) == ["waiting"]
    assert pipeline.drain() == [Outcome.FILLED]  # the queue is back
    assert _cell(fill_api, row["id"])["status"] == "filled"


def test_the_queue_is_kept_short_and_the_rest_waits(fill_api: Caller, pipeline: Pipeline) -> None:
    database = make_database(fill_api, NOTES_DB)
    for number in range(7):
        _row(fill_api, database["id"], f"Page {number}.")
    pipeline.settings = pipeline.settings.model_copy(update={"dispatch_batch": 3, "max_queued": 5})
    assert pipeline.dispatch() == 3
    assert pipeline.dispatch() == 2  # five dispatched and not started: no room
    assert pipeline.dispatch() == 0
    assert _states(pipeline).count("dispatched") == 5
    assert pipeline.drain().count(Outcome.FILLED) == 7


def test_two_dispatchers_never_send_an_entry_twice(
    fill_api: Caller, pipeline: Pipeline, store: object
) -> None:
    database = make_database(fill_api, NOTES_DB)
    for number in range(60):
        _row(fill_api, database["id"], f"Page {number}.")
    settings = pipeline.settings.model_copy(update={"dispatch_batch": 7})
    sent: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def send(fills: list[tuple[str, str, int]], lane: str) -> None:
        with lock:
            sent.extend(fills)

    def dispatcher() -> None:
        while dispatch_due(pipeline.store, send, settings):
            pass

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 60
    assert len(set(sent)) == 60


def test_the_sweeper_resends_a_lost_message_and_a_dead_workers_fill(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    lost = _row(fill_api, database["id"], "Its message was lost with Redis.")
    dead = _row(fill_api, database["id"], "Its worker was killed.")
    assert pipeline.dispatch() == 2
    pipeline.queue.clear()  # both messages are gone
    long_ago = utcnow() - timedelta(hours=1)
    with pipeline.store.transaction() as session:
        # One was started by a worker that then died: its lease ran out.
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.row_id == dead["id"])
            .values(state=EntryState.RUNNING.value, lease_until=long_ago)
        )
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.row_id == lost["id"])
            .values(dispatched_at=long_ago)
        )
    swept = pipeline.sweep()
    assert (swept.lease_expired, swept.lost) == (1, 1)
    assert pipeline.drain() == [Outcome.FILLED, Outcome.FILLED]
    assert _cell(fill_api, lost["id"])["status"] == "filled"
    assert _cell(fill_api, dead["id"])["status"] == "filled"


def test_a_redelivered_message_is_a_no_op(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    _row(fill_api, database["id"], "Delivered twice.")
    assert pipeline.dispatch() == 1
    pipeline.queue.append(pipeline.queue[0])  # the broker hands it out again
    assert pipeline.work_one() == Outcome.FILLED
    assert pipeline.work_one() == Outcome.SUPERSEDED
    assert len(sim.requests) == 1


def test_a_fill_held_by_another_worker_is_not_run_twice(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    _row(fill_api, database["id"], "Slow page.")
    assert pipeline.dispatch() == 1
    message = pipeline.queue[0]
    pipeline.queue.append(message)
    sim.configure(latency_ms=500)
    outcomes: list[Outcome] = []
    first = threading.Thread(target=lambda: outcomes.append(pipeline.work_one()))
    first.start()
    sim.wait_for_requests()
    outcomes.append(pipeline.work_one())
    first.join()
    assert sorted(outcomes) == sorted([Outcome.FILLED, Outcome.DUPLICATE])
    assert len(sim.requests) == 1


def test_a_fill_that_keeps_killing_its_worker_ends_in_error(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, fake_clock: FakeClock
) -> None:
    from autofill.fills.fill import _claim

    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "A page whose fill takes its worker down.")
    settings = pipeline.settings.model_copy(update={"max_fill_attempts": 3})
    for _ in range(3):
        assert pipeline.dispatch() == 1
        message = pipeline.queue.pop(0)
        # A worker claims the fill, then dies before it records anything.
        pipeline.store.run(lambda s, m=message: _claim(s, settings, *m))  # type: ignore[misc]
        fake_clock.advance(settings.fill_lease_s + 1)  # its lease runs out
        assert pipeline.sweep().lease_expired == 1
    pipeline.settings = settings
    assert pipeline.drain() == [Outcome.FAILED]
    cell = _cell(fill_api, row["id"])
    assert cell["status"] == "error" and cell["error_code"] == "gave_up"
    assert "gave up after 3 attempts" in cell["error"]
    assert sim.requests == []  # each claim died before calling; the fourth was refused
    # A person's edit is a new fill, with attempts of its own.
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Rewritten."})
    assert pipeline.drain() == [Outcome.FILLED]
