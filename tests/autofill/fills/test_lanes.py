"""Lanes and fairness in the dispatcher (the real dispatch code on the real store): a person's
edit goes before any backfill, never finds the queue full of one, and backfills of several
workspaces share the workers; a stream of edits does not starve a backfill."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from autofill.db.models import OutboxEntry
from autofill.fills.dispatch import share_slots
from autofill.kinds import EntryState, Lane
from tests.autofill.fills.conftest import Pipeline
from tests.conftest import Caller
from tests.helpers import make_database

SUMMARY = {"name": "Summary", "type": "ai", "ai": {"task": "summary", "model": "sim:sim-1"}}


def _backfill(api: Caller, rows: int) -> dict[str, Any]:
    """A database of ``rows`` rows, then an AI column over them: a backfill."""
    database = make_database(
        api, {"name": "Notes", "properties": [{"name": "Name", "type": "title"}]}
    )
    for number in range(rows):
        response = api.post(
            f"/v1/databases/{database['id']}/rows",
            json={"properties": {"Name": f"Row {number}"}, "content": f"Page {number}."},
        )
        assert response.status_code == 201
    response = api.post(f"/v1/databases/{database['id']}/properties", json=SUMMARY)
    assert response.status_code == 201, response.get_json()
    return {**database, "column": response.get_json()["id"]}


def _entries(pipeline: Pipeline) -> dict[tuple[str, str], OutboxEntry]:
    with pipeline.store.transaction() as session:
        found = list(session.scalars(select(OutboxEntry)))
        session.expunge_all()
    return {(e.row_id, e.property_id): e for e in found}


def _sent(pipeline: Pipeline) -> list[OutboxEntry]:
    entries = _entries(pipeline)
    return [entries[(row, prop)] for row, prop, _ in pipeline.queue]


def _settings(pipeline: Pipeline, **changes: Any) -> None:
    pipeline.settings = pipeline.settings.model_copy(update=changes)


def test_a_backfill_is_bulk_and_an_edit_goes_before_it(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    database = _backfill(fill_api, 30)
    assert {e.lane for e in _entries(pipeline).values()} == {Lane.BULK.value}
    row = fill_api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"properties": {"Name": "Urgent"}, "content": "A person waits for this one."},
    ).get_json()
    _settings(pipeline, dispatch_batch=5)
    pipeline.dispatch()
    sent = _sent(pipeline)
    assert sent[0].row_id == row["id"] and sent[0].lane == Lane.INTERACTIVE.value
    assert [e.lane for e in sent[1:]] == [Lane.BULK.value] * 4  # the rest of the room


def test_an_edit_never_finds_the_queue_full_of_a_backfill(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    database = _backfill(fill_api, 30)
    _settings(pipeline, dispatch_batch=100, max_queued=10, interactive_reserve=0.2)
    assert pipeline.dispatch() == 8  # bulk holds at most 80 % of the queue
    assert pipeline.dispatch() == 0
    row = fill_api.post(
        f"/v1/databases/{database['id']}/rows",
        json={"properties": {"Name": "Edit"}, "content": "Edited while the backfill runs."},
    ).get_json()
    assert pipeline.dispatch() == 1
    assert pipeline.queue[-1][0] == row["id"]


def test_editing_a_row_of_a_backfill_makes_its_fill_interactive(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    database = _backfill(fill_api, 3)
    rows = fill_api.get(f"/v1/databases/{database['id']}/rows").get_json()["items"]
    response = fill_api.patch(f"/v1/rows/{rows[0]['id']}", json={"content": "Rewritten."})
    assert response.status_code == 200
    lanes = {row: e.lane for (row, _), e in _entries(pipeline).items()}
    assert lanes[rows[0]["id"]] == Lane.INTERACTIVE.value
    assert sorted(lanes.values()).count(Lane.BULK.value) == 2


def test_two_backfills_share_the_queue_equally(
    fill_api: Caller, other_api: Caller, pipeline: Pipeline, app: Any
) -> None:
    _backfill(fill_api, 40)
    _backfill(other_api, 40)
    _settings(pipeline, dispatch_batch=20, max_queued=1000)
    pipeline.dispatch()
    by_workspace = [e.workspace_id for e in _sent(pipeline)]
    assert by_workspace.count(fill_api.workspace_id) == 10
    assert by_workspace.count(other_api.workspace_id) == 10


def test_a_cap_holds_while_another_workspace_waits(
    fill_api: Caller, other_api: Caller, pipeline: Pipeline
) -> None:
    _backfill(fill_api, 20)
    _backfill(other_api, 20)
    _settings(pipeline, dispatch_batch=100, max_queued=1000, max_in_flight_per_workspace=5)
    assert pipeline.dispatch() == 10
    counts = [e.workspace_id for e in _sent(pipeline)]
    assert counts.count(fill_api.workspace_id) == counts.count(other_api.workspace_id) == 5
    assert pipeline.dispatch() == 0  # both at their cap, each while the other waits
    while pipeline.queue:
        pipeline.work_one()
    assert pipeline.dispatch() == 10  # fills finished: room under the cap again


def test_a_stream_of_edits_does_not_starve_a_backfill(fill_api: Caller, pipeline: Pipeline) -> None:
    database = _backfill(fill_api, 10)
    for number in range(40):
        fill_api.post(
            f"/v1/databases/{database['id']}/rows",
            json={"properties": {"Name": f"Edit {number}"}, "content": f"Edit {number}."},
        )
    _settings(pipeline, dispatch_batch=20, max_queued=1000, bulk_min_share=0.1)
    pipeline.dispatch()
    lanes = [e.lane for e in _sent(pipeline)]
    assert lanes.count(Lane.INTERACTIVE.value) == 18 and lanes.count(Lane.BULK.value) == 2
    with pipeline.store.transaction() as session:
        states = set(session.scalars(select(OutboxEntry.state)))
    assert EntryState.DISPATCHED.value in states


def test_share_slots_is_water_filling() -> None:
    assert share_slots(6, {"a": 10, "b": 10}, {}, None) == {"a": 3, "b": 3}
    # b already has 4 in flight: a gets slots until they are even, then they alternate.
    assert share_slots(6, {"a": 10, "b": 10}, {"b": 4}, None) == {"a": 5, "b": 1}
    assert share_slots(6, {"a": 2, "b": 10}, {}, None) == {"a": 2, "b": 4}
    assert share_slots(6, {"a": 10, "b": 10}, {}, 2) == {"a": 2, "b": 2}  # both capped
    # b's two fit, and then a is alone with fills waiting: the cap no longer holds it.
    assert share_slots(6, {"a": 10, "b": 2}, {}, 2) == {"a": 4, "b": 2}
    assert share_slots(6, {"a": 10}, {}, 2) == {"a": 6}  # alone: no one to leave room for


def test_two_backfills_in_one_workspace_share_its_slots(
    fill_api: Caller, pipeline: Pipeline
) -> None:
    database = _backfill(fill_api, 20)
    second = {**SUMMARY, "name": "Second summary"}
    response = fill_api.post(f"/v1/databases/{database['id']}/properties", json=second)
    assert response.status_code == 201
    _settings(pipeline, dispatch_batch=10, max_queued=1000)
    pipeline.dispatch()
    by_column = [e.property_id for e in _sent(pipeline)]
    assert by_column.count(database["column"]) == 5
    assert by_column.count(response.get_json()["id"]) == 5
