"""Bulk fills (estimate, progress, cancel) and per-workspace budgets."""

from __future__ import annotations

from typing import Any

from autofill.kinds import Outcome
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import NOTES_DB, _cell, _row
from tests.conftest import Caller, assert_error
from tests.helpers import make_database

MANUAL_DB: dict[str, Any] = {
    "name": "Manual",
    "properties": [
        {"name": "Name", "type": "title"},
        {
            "name": "Summary",
            "type": "ai",
            "ai": {"task": "summary", "inputs": ["content"], "auto_update": False},
        },
    ],
}


def _summary_id(database: dict[str, Any]) -> str:
    return str(next(p["id"] for p in database["properties"] if p["name"] == "Summary"))


def test_dry_run_estimates_then_the_run_fills_and_reports_progress(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, MANUAL_DB)
    rows = [_row(fill_api, database["id"], f"Meeting {n}. Decisions were made.") for n in range(4)]
    prop_id = _summary_id(database)
    fill_api.put(f"/v1/rows/{rows[0]['id']}/cells/{prop_id}", json={"value": "Mine."})
    assert pipeline.drain() == []  # manual column: nothing runs by itself

    dry = fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all", "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    estimate = dry.get_json()
    assert estimate["rows"] == 3 and estimate["overridden"] == 1
    assert estimate["input_tokens"] > 0 and estimate["output_tokens"] > 0
    assert estimate["max_output_tokens"] >= estimate["output_tokens"]
    assert estimate["cost_usd"] >= 0
    assert sim.requests == []  # a dry run calls no model

    started = fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"})
    assert started.status_code == 202
    run = started.get_json()
    assert (run["state"], run["total"], run["remaining"]) == ("running", 3, 3)
    assert pipeline.drain() == [Outcome.FILLED] * 3
    done = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert (done["state"], done["done"], done["failed"], done["remaining"]) == ("done", 3, 0, 0)
    assert done["model_calls"] == 3 and done["tokens_in"] > 0
    assert done["finished_at"] is not None
    assert _cell(fill_api, rows[0]["id"])["value"] == "Mine."  # the person's cell survived


def test_scopes_pick_their_cells(fill_api: Caller, pipeline: Pipeline, sim: Simulator) -> None:
    database = make_database(fill_api, MANUAL_DB)
    prop_id = _summary_id(database)
    rows = [_row(fill_api, database["id"], f"Page {n}.") for n in range(3)]
    fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "empty"})
    pipeline.drain()
    fill_api.patch(f"/v1/rows/{rows[1]['id']}", json={"content": "Edited."})
    assert _cell(fill_api, rows[1]["id"])["status"] == "stale"

    def rows_in(scope: str) -> int:
        body = {"scope": scope, "dry_run": True}
        return int(fill_api.post(f"/v1/properties/{prop_id}/fill", json=body).get_json()["rows"])

    assert (rows_in("all"), rows_in("empty"), rows_in("stale"), rows_in("error")) == (3, 0, 1, 0)
    run = fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "stale"}).get_json()
    assert pipeline.drain() == [Outcome.FILLED]
    assert fill_api.get(f"/v1/runs/{run['id']}").get_json()["state"] == "done"
    assert _cell(fill_api, rows[1]["id"])["value"] == "[sim] Edited."


def test_cancel_drops_fills_not_started(fill_api: Caller, pipeline: Pipeline) -> None:
    database = make_database(fill_api, MANUAL_DB)
    prop_id = _summary_id(database)
    rows = [_row(fill_api, database["id"], f"Page {n}.") for n in range(5)]
    run = fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"}).get_json()
    cancelled = fill_api.delete(f"/v1/runs/{run['id']}")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "cancelled"
    assert pipeline.drain() == []
    assert {_cell(fill_api, r["id"])["status"] for r in rows} == {"empty"}


def test_bad_fill_requests_name_the_field(fill_api: Caller, other_api: Caller) -> None:
    database = make_database(fill_api, NOTES_DB)
    title = next(p for p in database["properties"] if p["name"] == "Name")
    prop_id = _summary_id(database)
    assert_error(
        fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "most"}),
        422,
        "validation_error",
        "scope",
    )
    assert_error(
        fill_api.post(f"/v1/properties/{title['id']}/fill", json={}),
        422,
        "validation_error",
        "property_id",
    )
    assert_error(other_api.post(f"/v1/properties/{prop_id}/fill", json={}), 404, "not_found")
    run = fill_api.post(f"/v1/properties/{prop_id}/fill", json={}).get_json()
    assert_error(other_api.get(f"/v1/runs/{run['id']}"), 404, "not_found")
    assert_error(other_api.delete(f"/v1/runs/{run['id']}"), 404, "not_found")


def test_a_spent_budget_parks_fills_and_raising_it_resumes_them(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    first = _row(fill_api, database["id"], "One page.")
    assert pipeline.drain() == [Outcome.FILLED]
    spent = fill_api.get("/v1/workspace").get_json()["usage"]
    used = spent["tokens_in"] + spent["tokens_out"]
    assert spent["fills"] == 1 and used > 0

    response = fill_api.patch("/v1/workspace", json={"budget_tokens": used + 10})
    assert response.get_json()["budget_tokens"] == used + 10
    second = _row(fill_api, database["id"], "Another page.")
    calls = len(sim.requests)
    assert pipeline.drain() == [Outcome.PARKED]
    assert len(sim.requests) == calls  # nothing was sent
    cell = _cell(fill_api, second["id"])
    assert (cell["status"], cell["error_code"], cell["value"]) == (
        "error",
        "budget_exhausted",
        None,
    )
    assert "budget" in cell["error"]
    assert _cell(fill_api, first["id"])["status"] == "filled"  # nothing else touched

    fill_api.patch("/v1/workspace", json={"budget_tokens": used * 10})
    assert _cell(fill_api, second["id"])["status"] == "pending"
    assert pipeline.drain() == [Outcome.FILLED]
    assert _cell(fill_api, second["id"])["value"] == "[sim] Another page."


def test_a_dollar_budget_parks_too(fill_api: Caller, pipeline: Pipeline) -> None:
    database = make_database(fill_api, {**NOTES_DB, "properties": NOTES_DB["properties"][:2]})
    prop = fill_api.post(
        f"/v1/databases/{database['id']}/properties",
        json={
            "name": "Summary",
            "type": "ai",
            "ai": {"task": "summary", "inputs": ["content"], "model": "openai:gpt-4.1"},
        },
    ).get_json()
    fill_api.patch("/v1/workspace", json={"budget_usd": 0.0})
    row = _row(fill_api, database["id"], "Priced page.")
    assert pipeline.drain() == [Outcome.PARKED]
    assert _cell(fill_api, row["id"])["error_code"] == "budget_exhausted"
    assert prop["ai"]["model"] == "openai:gpt-4.1"


def test_budget_values_are_checked(fill_api: Caller) -> None:
    assert_error(
        fill_api.patch("/v1/workspace", json={"budget_tokens": -1}),
        422,
        "validation_error",
        "budget_tokens",
    )
    assert_error(
        fill_api.patch("/v1/workspace", json={"budget_usd": "lots"}),
        422,
        "validation_error",
        "budget_usd",
    )
    cleared = fill_api.patch("/v1/workspace", json={"budget_usd": None}).get_json()
    assert cleared["budget_usd"] is None
