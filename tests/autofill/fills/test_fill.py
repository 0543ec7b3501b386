"""Change-driven fills, step by step: what a write makes due, what a fill writes, what it
throws away, and when it spends nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from autofill.clock import FakeClock
from autofill.db.models import OutboxEntry, Row
from autofill.kinds import Outcome
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.conftest import Caller, Configure
from tests.helpers import make_database

SUMMARY = {"name": "Summary", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}}
NOTES_DB: dict[str, Any] = {
    "name": "Notes",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["Open", "Done"]},
        SUMMARY,
    ],
}


def _row(api: Caller, database_id: str, content: str, **props: Any) -> dict[str, Any]:
    response = api.post(
        f"/v1/databases/{database_id}/rows", json={"content": content, "properties": props}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _cell(api: Caller, row_id: str, name: str = "Summary") -> dict[str, Any]:
    return api.get(f"/v1/rows/{row_id}").get_json()["cells"][name]  # type: ignore[no-any-return]


def _jobs(pipeline: Pipeline) -> int:
    with pipeline.store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


def test_a_new_row_is_filled_with_provenance(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "The launch slipped a week. Marketing is unhappy.")
    assert _cell(fill_api, row["id"])["status"] == "pending"
    assert _jobs(pipeline) == 1

    assert pipeline.drain() == [Outcome.FILLED]
    cell = _cell(fill_api, row["id"])
    assert cell["status"] == "filled"
    assert cell["value"].startswith("[sim] The launch slipped a week.")
    provenance = cell["provenance"]
    assert provenance["model"] == "sim:sim-1"
    assert provenance["prompt_version"].startswith("summary:")
    assert provenance["tokens_in"] > 0 and provenance["tokens_out"] > 0
    assert provenance["truncated"] is False
    assert len(sim.requests) == 1
    assert _jobs(pipeline) == 0


def test_an_edit_no_ai_column_reads_costs_nothing(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "Ship the beta.")
    pipeline.drain()
    before = _cell(fill_api, row["id"])
    calls = len(sim.requests)

    fill_api.patch(f"/v1/rows/{row['id']}", json={"properties": {"Status": "Done"}})
    assert _jobs(pipeline) == 0
    assert pipeline.drain() == []
    assert len(sim.requests) == calls
    assert _cell(fill_api, row["id"]) == before


def test_ten_rapid_saves_cost_one_fill_on_the_last_content(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, fake_clock: FakeClock
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "Draft 0.")
    pipeline.drain()
    calls = len(sim.requests)
    # With a debounce window, the saves keep pushing the fill back.
    fill_api.client.application.extensions["autofill.settings"] = pipeline.settings.model_copy(
        update={"debounce_s": 0.5}
    )
    for number in range(1, 11):
        fill_api.patch(f"/v1/rows/{row['id']}", json={"content": f"Draft {number}."})
        assert pipeline.dispatch() == 0  # still inside the window
        fake_clock.advance(0.3)  # 3 s of saves in all, each one pushing the fill back
    with pipeline.store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.generation == 10
    fake_clock.advance(0.3)  # the last save's window has passed
    assert pipeline.drain() == [Outcome.FILLED]
    assert len(sim.requests) == calls + 1
    assert _cell(fill_api, row["id"])["value"] == "[sim] Draft 10."


def test_a_row_edited_while_its_fill_is_in_flight_ends_with_the_latest_content(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "Old content.")
    assert pipeline.dispatch() == 1
    sim.configure(latency_ms=600)
    outcomes: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcomes.append(pipeline.work_one()))
    worker.start()
    sim.wait_for_requests()
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "New content."})
    worker.join()
    assert outcomes == [Outcome.SUPERSEDED]
    # The old answer was never written; the newer fill is due and writes the new one.
    assert _cell(fill_api, row["id"])["value"] is None
    sim.configure(latency_ms=0)
    assert pipeline.drain() == [Outcome.FILLED]
    assert _cell(fill_api, row["id"])["value"] == "[sim] New content."


def test_same_inputs_and_prompt_as_the_value_means_no_model_call(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, store: Any
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "Budget approved.")
    pipeline.drain()
    calls = len(sim.requests)
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Budget aproved."})  # a typo
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Budget approved."})  # undone
    assert _cell(fill_api, row["id"])["status"] == "pending"
    assert pipeline.drain() == [Outcome.UNCHANGED]
    assert len(sim.requests) == calls
    assert _cell(fill_api, row["id"])["status"] == "filled"
    spent = fill_api.get("/v1/workspace").get_json()["usage"]
    assert (spent["fills"], spent["fills_avoided"]) == (1, 1)


def test_an_overridden_cell_is_never_written(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    row = _row(fill_api, database["id"], "Original.")
    assert pipeline.dispatch() == 1
    sim.configure(latency_ms=400)
    outcomes: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcomes.append(pipeline.work_one()))
    worker.start()
    sim.wait_for_requests()
    fill_api.put(f"/v1/rows/{row['id']}/cells/{summary['id']}", json={"value": "Mine."})
    worker.join()
    assert outcomes == [Outcome.OVERRIDDEN]
    cell = _cell(fill_api, row["id"])
    assert (cell["status"], cell["value"]) == ("overridden", "Mine.")
    # A content edit leaves it alone too.
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Changed."})
    assert pipeline.drain() == []
    assert _cell(fill_api, row["id"])["value"] == "Mine."


def test_a_chain_refills_in_order_each_cell_once(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    spec = {
        **NOTES_DB,
        "properties": [
            *NOTES_DB["properties"],
            {
                "name": "Summary FR",
                "type": "ai",
                "ai": {"task": "translate", "inputs": ["Summary"], "target_language": "fr"},
            },
        ],
    }
    database = make_database(fill_api, spec)
    row = _row(fill_api, database["id"], "First version.")
    # Both cells are due; the translation waits for the summary.
    outcomes = pipeline.drain()
    assert outcomes.count(Outcome.FILLED) == 2
    assert Outcome.BLOCKED not in outcomes  # the dispatcher held it back; no worker saw it
    assert len(sim.requests) == 2
    translated = _cell(fill_api, row["id"], "Summary FR")["value"]
    assert "First version." in translated

    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Second version."})
    assert pipeline.drain() == [Outcome.FILLED, Outcome.FILLED]
    assert len(sim.requests) == 4
    assert "Second version." in _cell(fill_api, row["id"], "Summary FR")["value"]


def test_a_failed_fill_leaves_an_error_and_can_be_retried(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    sim.configure(schedule=["400"])
    row = _row(fill_api, database["id"], "Anything.")
    assert pipeline.drain() == [Outcome.FAILED]
    cell = _cell(fill_api, row["id"])
    assert cell["status"] == "error"
    assert cell["error_code"] == "provider_error"
    assert "400" in cell["error"]

    response = fill_api.post(f"/v1/rows/{row['id']}/cells/{summary['id']}/fill")
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    assert pipeline.drain() == [Outcome.FILLED]
    assert _cell(fill_api, row["id"])["status"] == "filled"


def test_malformed_answers_are_survived_and_every_call_is_counted(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    sim.configure(schedule=["garbage", "empty", "wrong_types"])
    row = _row(fill_api, database["id"], "Invoices fail to export.")
    assert pipeline.drain() == [Outcome.FILLED]  # no exception reached the worker
    assert _cell(fill_api, row["id"])["value"].startswith("[sim]")
    assert fill_api.get("/v1/workspace").get_json()["usage"]["model_calls"] == 4

    # When the provider never answers properly: an error naming it; the last good value stays.
    sim.configure(error_rates={"shapeless": 1.0})
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "Now the PDFs are empty."})
    pipeline.completer.timeout_s = 2.0
    assert pipeline.drain() == [Outcome.FAILED]
    cell = _cell(fill_api, row["id"])
    assert cell["status"] == "error" and cell["error_code"] == "provider_error"
    assert "malformed response" in cell["error"]
    assert cell["value"].startswith("[sim] Invoices")
    calls = fill_api.get("/v1/workspace").get_json()["usage"]["model_calls"]
    assert calls == len(sim.requests) > 5


def test_asking_to_fill_an_overridden_cell_is_a_conflict(fill_api: Caller) -> None:
    database = make_database(fill_api, NOTES_DB)
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    row = _row(fill_api, database["id"], "x")
    fill_api.put(f"/v1/rows/{row['id']}/cells/{summary['id']}", json={"value": "Mine."})
    response = fill_api.post(f"/v1/rows/{row['id']}/cells/{summary['id']}/fill")
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"property_id": "the cell is overridden"}


def test_changing_the_prompt_refills_auto_update_columns(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    rows = [_row(fill_api, database["id"], f"Page {n}.") for n in range(3)]
    pipeline.drain()
    fill_api.patch(
        f"/v1/properties/{summary['id']}", json={"ai": {"instruction": "One short sentence."}}
    )
    assert {_cell(fill_api, r["id"])["status"] for r in rows} == {"pending"}
    assert pipeline.drain() == [Outcome.FILLED] * 3
    assert len(sim.requests) == 6


def test_an_answer_that_is_not_an_answer_never_becomes_the_value(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    """Cut off, refused, filtered, out of credit: the cell says which, keeps its last value,
    and every billed call is counted."""
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "The first version of the page.")
    assert pipeline.drain() == [Outcome.FILLED]
    first = _cell(fill_api, row["id"])["value"]
    cases = [
        (["length", "length"], "answer_truncated", "cut off at the output limit"),
        (["refusal"], "refused", "refused"),
        (["content_filter"], "content_filtered", "content filter"),
        (["quota"], "quota_exhausted", "Add credit"),
    ]
    for number, (schedule, code, says) in enumerate(cases):
        calls = len(sim.requests)
        sim.configure(schedule=schedule)
        fill_api.patch(f"/v1/rows/{row['id']}", json={"content": f"Version {number + 2}."})
        assert pipeline.drain() == [Outcome.FAILED], code
        cell = _cell(fill_api, row["id"])
        assert (cell["status"], cell["error_code"]) == ("error", code)
        assert says in cell["error"] and cell["value"] == first
        assert len(sim.requests) - calls == len(schedule)  # none of them retried as transient
    usage = fill_api.get("/v1/workspace").get_json()["usage"]
    assert usage["model_calls"] == len(sim.requests)


def test_a_column_whose_model_was_retired_fails_its_fills_clearly(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, tmp_path: Any, configure: Configure
) -> None:
    database = make_database(fill_api, NOTES_DB)
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    row = _row(fill_api, database["id"], "A page.")
    pipeline.drain()
    # The catalogue moves on after the column was defined: its model is retired.
    override = tmp_path / "models.json"
    override.write_text(
        '{"sim:*": {"status": "deprecated", "retires_on": "2020-01-01", '
        '"replacement": "sim:sim-2"}}'
    )
    configure(model_catalogue=override)
    response = fill_api.post(f"/v1/rows/{row['id']}/cells/{summary['id']}/fill")
    assert response.status_code == 202
    assert pipeline.drain() == [Outcome.FAILED]
    cell = _cell(fill_api, row["id"])
    assert cell["error_code"] == "model_retired" and "use sim:sim-2 instead" in cell["error"]
    assert len(sim.requests) == 1  # only the first fill called the model


def test_a_long_retry_after_waits_in_the_outbox_not_in_a_worker(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator, store: Any, fake_clock: FakeClock
) -> None:
    database = make_database(fill_api, NOTES_DB)
    row = _row(fill_api, database["id"], "The provider is busy for half a minute.")
    sim.configure(schedule=["429"], retry_after_s=30)
    assert pipeline.drain() == [Outcome.DEFERRED]
    assert fake_clock.slept == []  # no worker thread slept through it
    with store.transaction() as session:
        entry = session.scalars(select(OutboxEntry)).one()
        assert entry.state == "waiting" and entry.attempts == 1
        wait = (_aware(entry.due_at) - fake_clock.now()).total_seconds()
    assert 29.0 <= wait <= 31.0  # the provider's retry-after, as the entry's due time
    assert _cell(fill_api, row["id"])["status"] == "pending"
    assert pipeline.drain() == []  # not due yet
    fake_clock.advance(31)
    assert pipeline.drain() == [Outcome.FILLED]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stored_language(pipeline: Pipeline, row_id: str) -> tuple[str | None, Any]:
    with pipeline.store.transaction() as session:
        row = session.get_one(Row, row_id)
        return row.content_language, row.updated_at


def test_the_page_language_is_detected_once_per_content_and_kept_with_the_row(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    two_columns = {
        **NOTES_DB,
        "properties": [
            *NOTES_DB["properties"],
            {"name": "Gist", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
        ],
    }
    database = make_database(fill_api, two_columns)
    row = _row(fill_api, database["id"], "Le lancement a glissé d'une semaine. Le marketing râle.")
    updated_at = _stored_language(pipeline, row["id"])[1]
    assert pipeline.drain() == [Outcome.FILLED, Outcome.FILLED]
    stored, still = _stored_language(pipeline, row["id"])
    assert stored == "fr|Latin|1"
    assert still == updated_at  # learning the language is not an edit of the row

    # The row's other fills read what is kept: a kept language that says Japanese is what
    # the next request names, whatever the page looks like (the page is not read again).
    with pipeline.store.transaction() as session:
        session.execute(update(Row).where(Row.id == row["id"]).values(content_language="ja|Kana|1"))
    summary = next(p for p in database["properties"] if p["name"] == "Summary")
    assert fill_api.post(f"/v1/rows/{row['id']}/cells/{summary['id']}/fill").status_code == 202
    assert pipeline.drain() == [Outcome.FILLED]
    assert "The page is written in Japanese" in str(sim.requests[-1]["body"]["messages"])

    # A new content forgets it; the next fill detects and keeps the new page's language.
    fill_api.patch(f"/v1/rows/{row['id']}", json={"content": "The launch slipped a week."})
    assert _stored_language(pipeline, row["id"])[0] is None
    assert pipeline.drain() == [Outcome.FILLED, Outcome.FILLED]
    assert _stored_language(pipeline, row["id"])[0] == "en|Latin|1"
    assert "The page is written in English" in str(sim.requests[-1]["body"]["messages"])
