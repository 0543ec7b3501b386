"""The cell events stream: every change, in commit order, resumable with Last-Event-ID."""

from __future__ import annotations

import json
from typing import Any

from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller, assert_error
from tests.helpers import make_database


def _read(api: Caller, database_id: str, **params: Any) -> list[dict[str, Any]]:
    headers = params.pop("headers", {})
    query = "&".join(f"{k}={v}" for k, v in {"timeout": 0.3, **params}.items())
    response = api.get(f"/v1/databases/{database_id}/events?{query}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields.get("event") == "cell":
            data = json.loads(fields["data"])
            assert int(fields["id"]) == data["id"]
            events.append(data)
    return events


def test_the_stream_carries_every_change_of_a_bulk_run_and_resumes(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    rows = [_row(fill_api, database["id"], f"Page {n}.") for n in range(5)]
    pipeline.drain()
    prop_id = next(p["id"] for p in database["properties"] if p["name"] == "Summary")
    everything = _read(fill_api, database["id"], after=0)
    assert [e["status"] for e in everything] == ["pending"] * 5 + ["filled"] * 5

    last = everything[-1]["id"]
    fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"})
    pipeline.drain()
    # A client that saw `last` and reconnects gets the rest, nothing twice.
    resumed = _read(fill_api, database["id"], headers={"Last-Event-ID": str(last)})
    assert [e["status"] for e in resumed] == ["pending"] * 5 + ["filled"] * 5
    assert {e["row_id"] for e in resumed} == {r["id"] for r in rows}
    assert all(e["id"] > last for e in resumed)
    ids = [e["id"] for e in everything + resumed]
    assert ids == sorted(set(ids))
    filled = resumed[-1]
    assert filled["value"].startswith("[sim] Page") and filled["model"] == "sim:sim-1"
    # A new client starts from now.
    assert _read(fill_api, database["id"]) == []
    # A browser's EventSource reconnects with its first URL (`after=0`) and Last-Event-ID:
    # the header wins, so nothing already seen comes again.
    again = _read(fill_api, database["id"], after=0, headers={"Last-Event-ID": str(last)})
    assert [e["id"] for e in again] == [e["id"] for e in resumed]


def test_the_stream_is_the_callers_own(fill_api: Caller, other_api: Caller) -> None:
    database = make_database(fill_api, NOTES_DB)
    assert_error(other_api.get(f"/v1/databases/{database['id']}/events"), 404, "not_found")
    assert_error(
        fill_api.get(f"/v1/databases/{database['id']}/events", headers={"Last-Event-ID": "abc"}),
        422,
        "validation_error",
        "Last-Event-ID",
    )
    assert_error(
        fill_api.get(f"/v1/databases/{database['id']}/events?after=-1"),
        422,
        "validation_error",
        "query.after",
    )


def test_event_ids_count_per_database_and_say_nothing_of_other_workspaces(
    fill_api: Caller, other_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    """Issue 24: a busy workspace's events do not show in another's ids — a new workspace's
    first event is 1, whatever happened elsewhere; two databases interleaved each count on."""
    busy = make_database(fill_api, NOTES_DB)
    for n in range(6):
        _row(fill_api, busy["id"], f"Busy page {n}.")
    pipeline.drain()
    assert [e["id"] for e in _read(fill_api, busy["id"], after=0)] == list(range(1, 13))

    other_api.client.application.extensions["autofill.settings"] = pipeline.settings
    quiet = make_database(other_api, NOTES_DB)
    _row(other_api, quiet["id"], "The quiet workspace's first page.")
    _row(fill_api, busy["id"], "Busy again, between the quiet one's events.")
    pipeline.drain()
    assert [e["id"] for e in _read(other_api, quiet["id"], after=0)] == [1, 2]
    later = _read(fill_api, busy["id"], after=12)
    assert [e["id"] for e in later] == [13, 14]
    # Another workspace's database is not found, with or without a cursor.
    assert_error(other_api.get(f"/v1/databases/{busy['id']}/events?timeout=0.1"), 404, "not_found")
