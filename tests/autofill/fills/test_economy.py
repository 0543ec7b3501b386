"""Economy runs: a bulk run's cells through the simulator's batch interfaces, with each SDK,
recorded by the live fill's record step (stale answers thrown away, re-asks live, failures
live or in error), cancelled cleanly, and picked up again after a restart."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from autofill.db import BatchItem, OutboxEntry, ProviderBatch
from autofill.fills import economy
from autofill.fills.economy import build
from autofill.kinds import BatchState, Outcome
from autofill.llm import registry
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.conftest import Caller, Configure, assert_error
from tests.helpers import make_database

MODELS = {
    "sim": "sim:sim-1",
    "openai": "openai:gpt-4.1-mini",
    "anthropic": "anthropic:claude-haiku-4-5",
}
PAGES = [
    "Le remboursement a échoué deux fois. Le client est en colère.",
    "The team shipped the export feature; customers love it.",
    "会議で新しい価格が決まりました。来月から適用されます。",
    "",
    "Die Lieferung kam zu spät, aber der Support war freundlich.",
]


def _database(api: Caller, model: str, output: dict[str, Any] | None = None) -> dict[str, Any]:
    ai: dict[str, Any] = {"task": "summary", "inputs": ["content"], "auto_update": False}
    if output is not None:
        ai = {"task": "classify", "inputs": ["content"], "output": output, "auto_update": False}
    spec = {
        "name": "Pages",
        "properties": [
            {"name": "Name", "type": "title"},
            {"name": "Summary", "type": "ai", "ai": {**ai, "model": model}},
        ],
    }
    return make_database(api, spec)


def _rows(api: Caller, database_id: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        body = {"properties": {"Name": f"Page {n}"}, "content": PAGES[n % len(PAGES)] + f" ({n})"}
        response = api.post(f"/v1/databases/{database_id}/rows", json=body)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def _column(database: dict[str, Any]) -> str:
    return str(next(p["id"] for p in database["properties"] if p["name"] == "Summary"))


def _cells(api: Caller, row_ids: list[str], prop: str) -> list[dict[str, Any]]:
    """Each row's AI cell (``prop`` names the column; every database here has one)."""
    del prop
    cells = []
    for row_id in row_ids:
        cell = api.get(f"/v1/rows/{row_id}").get_json()["cells"]["Summary"]
        cells.append({**cell, "row_id": row_id})
    return cells


def _passes(pipeline: Pipeline, rounds: int = 40) -> None:
    """Batcher passes (and the live pipeline for what goes live) until nothing is left."""
    for _ in range(rounds):
        economy.pass_once(pipeline.store, pipeline.settings, registry.current())
        pipeline.drain()
        with pipeline.store.transaction() as session:
            open_batches = session.scalar(
                select(func.count()).where(
                    ProviderBatch.state.in_(["building", "prepared", "submitted", "ended"])
                )
            )
            entries = session.scalar(select(func.count()).select_from(OutboxEntry))
        if not open_batches and not entries:
            return
        _due_now(pipeline)
    raise AssertionError("the economy run did not finish")


def _due_now(pipeline: Pipeline) -> None:
    """The batcher's backoff between looks, skipped: every submitted batch is due a look."""
    with pipeline.store.transaction() as session:
        for batch in session.scalars(select(ProviderBatch)):
            batch.next_check_at = batch.created_at - timedelta(minutes=10)


@pytest.fixture
def economy_settings(pipeline: Pipeline, configure: Configure, providers: Simulator) -> Pipeline:
    providers.configure(batch_delay_s=0.0, retry_after_s=0.05)
    pipeline.settings = pipeline.settings.model_copy(
        update={"batch_check_first_s": 0.01, "batch_claim_chunk": 7, "batch_max_requests": 10}
    )
    return pipeline


@pytest.mark.parametrize("kind", ["sim", "openai", "anthropic"])
def test_an_economy_run_fills_every_cell_as_a_live_run_would_at_half_the_price(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator, kind: str
) -> None:
    pipeline = economy_settings
    live_db = _database(fill_api, MODELS[kind])
    cheap_db = _database(fill_api, MODELS[kind])
    live_rows = _rows(fill_api, live_db["id"], 23)
    cheap_rows = _rows(fill_api, cheap_db["id"], 23)

    dry = fill_api.post(
        f"/v1/properties/{_column(cheap_db)}/fill", json={"scope": "all", "dry_run": True}
    ).get_json()
    assert dry["economy"]["discount"] == 0.5
    assert dry["economy"]["cost_without_cache_usd"] == pytest.approx(dry["cost_usd"] / 2, 1e-3)
    assert dry["economy"]["window_hours"] == 24

    live = fill_api.post(f"/v1/properties/{_column(live_db)}/fill", json={"scope": "all"})
    assert pipeline.drain() == [Outcome.FILLED] * 23
    live_run = fill_api.get(f"/v1/runs/{live.get_json()['id']}").get_json()
    live_calls = len(providers.requests)

    started = fill_api.post(
        f"/v1/properties/{_column(cheap_db)}/fill", json={"scope": "all", "mode": "economy"}
    )
    assert started.status_code == 202, started.get_json()
    run = started.get_json()
    assert run["mode"] == "economy" and run["batch"]["batches"] == 0
    assert pipeline.drain() == []  # nothing of an economy run goes to the live queue
    _passes(pipeline)

    done = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert (done["state"], done["done"], done["failed"]) == ("done", 23, 0), done
    # 23 cells in batches of at most 10: three batches, every request answered.
    assert done["batch"]["batches"] == 3 and done["batch"]["submitted"] == 23
    assert done["batch"]["in_provider_queue"] == 0 and done["batch"]["provider_succeeded"] == 23
    batch_calls = [r for r in providers.requests[live_calls:]]
    assert len(batch_calls) == 23 and {r["path"] for r in batch_calls} == {"batch"}
    # The same answers as live (the simulator answers a request the same way twice), at half.
    live_values = [c["value"] for c in _cells(fill_api, live_rows, _column(live_db))]
    cheap_values = [c["value"] for c in _cells(fill_api, cheap_rows, _column(cheap_db))]
    assert cheap_values == live_values and all(v for v in cheap_values)
    assert done["tokens_in"] == live_run["tokens_in"]
    # Half the price, or less: the live run's requests warmed the prompt cache the batch read.
    assert 0 < done["cost_usd"] <= live_run["cost_usd"] / 2 * 1.001


def test_the_batch_requests_are_the_live_requests(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    """A batch line's body is byte for byte what the live fill of the same cell sends."""
    pipeline = economy_settings
    database = _database(fill_api, MODELS["openai"], {"type": "select", "options": ["A", "B"]})
    rows = _rows(fill_api, database["id"], 1)
    column = _column(database)
    fill_api.post(f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"})
    _passes(pipeline)
    batched = providers.requests[-1]["body"]
    fill_api.post(f"/v1/rows/{rows[0]}/cells/{column}/fill")
    pipeline.drain()
    assert providers.requests[-1]["path"] == "/v1/chat/completions"
    assert providers.requests[-1]["body"] == batched


def test_a_row_edited_while_its_batch_runs_is_filled_live_and_the_old_answer_is_discarded(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    pipeline = economy_settings
    providers.configure(batch_delay_s=3600.0)  # the batch stays at the provider
    database = _database(fill_api, MODELS["sim"])
    rows = _rows(fill_api, database["id"], 3)
    column = _column(database)
    run = fill_api.post(
        f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"}
    ).get_json()
    economy.pass_once(pipeline.store, pipeline.settings, registry.current())
    assert fill_api.get(f"/v1/runs/{run['id']}").get_json()["batch"]["in_provider_queue"] == 3

    edited = fill_api.patch(f"/v1/rows/{rows[0]}", json={"content": "A brand new page."})
    assert edited.status_code == 200
    # The person asks for the cell: filled live, at once, not after the batch.
    asked = fill_api.post(f"/v1/rows/{rows[0]}/cells/{column}/fill")
    assert asked.status_code in (200, 202), asked.get_json()
    assert pipeline.drain() == [Outcome.FILLED]
    fresh = _cells(fill_api, rows[:1], column)[0]
    assert "brand new" in fresh["value"]

    providers.configure(batch_delay_s=0.0)
    _passes(pipeline)
    assert _cells(fill_api, rows[:1], column)[0]["value"] == fresh["value"]  # not overwritten
    done = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert done["state"] == "done" and done["done"] == 3  # the live fill settled its cell
    assert done["model_calls"] == 4  # the discarded batch answer was paid for: counted


def test_an_invalid_batch_answer_is_reasked_live_once_with_its_error(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    pipeline = economy_settings
    providers.configure(batch_schedule=["invalid", "ok"])
    database = _database(
        fill_api, MODELS["sim"], {"type": "select", "options": ["Positive", "Negative"]}
    )
    rows = _rows(fill_api, database["id"], 2)
    column = _column(database)
    fill_api.post(f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"})
    _passes(pipeline)
    live = [r for r in providers.requests if r["path"] != "batch"]
    assert len(live) == 1  # one re-ask, live
    turns = [m["content"] for m in live[0]["body"]["messages"]]
    assert any("not one of" in str(turn) for turn in turns), turns
    assert all(c["status"] == "filled" for c in _cells(fill_api, rows, column))


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_requests_that_expire_or_fail_go_live_and_refused_ones_end_in_error(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator, kind: str
) -> None:
    pipeline = economy_settings
    providers.configure(batch_schedule=["expired", "500", "400", "refusal", "ok"])
    database = _database(fill_api, MODELS[kind])
    rows = _rows(fill_api, database["id"], 5)
    column = _column(database)
    run = fill_api.post(
        f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"}
    ).get_json()
    _passes(pipeline)
    cells = {c["row_id"]: c for c in _cells(fill_api, rows, column)}
    statuses = [cells[row_id]["status"] for row_id in rows]
    # Expired and 500: filled live. 400: refused for good, the provider's reason in the cell.
    # A refusal: as a live refusal is.
    assert statuses == ["filled", "filled", "error", "error", "filled"], cells
    assert "400" in cells[rows[2]]["error"]
    assert cells[rows[3]]["error_code"] == "refused"
    live = [r for r in providers.requests if r["path"] != "batch"]
    assert len(live) == 2
    done = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert (done["state"], done["done"], done["failed"]) == ("done", 3, 2)


def test_cancelling_an_economy_run_cancels_its_batch_at_the_provider(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    pipeline = economy_settings
    providers.configure(batch_delay_s=3600.0)
    database = _database(fill_api, MODELS["anthropic"])
    rows = _rows(fill_api, database["id"], 4)
    column = _column(database)
    run = fill_api.post(
        f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"}
    ).get_json()
    economy.pass_once(pipeline.store, pipeline.settings, registry.current())
    cancelled = fill_api.delete(f"/v1/runs/{run['id']}").get_json()
    assert cancelled["state"] == "cancelled"
    _passes(pipeline)
    sim_batches = providers.state.book.listed("anthropic")
    assert len(sim_batches) == 1 and sim_batches[0].cancel_at is not None
    assert all(c["status"] != "pending" for c in _cells(fill_api, rows, column))
    with pipeline.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        assert session.scalar(select(func.count()).select_from(BatchItem)) == 0
        assert [b.state for b in session.scalars(select(ProviderBatch))] == ["done"]
    assert [r for r in providers.requests if r["path"] != "batch"] == []


def test_a_submission_cut_short_is_found_at_the_provider_not_sent_twice(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    """The process died after the provider took the batch and before its id was saved: the
    next pass finds it by the tag in its metadata (OpenAI)."""
    pipeline = economy_settings
    database = _database(fill_api, MODELS["openai"])
    rows = _rows(fill_api, database["id"], 3)
    fill_api.post(
        f"/v1/properties/{_column(database)}/fill", json={"scope": "all", "mode": "economy"}
    )
    build.build(pipeline.store, pipeline.settings, registry.current())
    with pipeline.store.transaction() as session:
        batch = session.scalars(select(ProviderBatch)).one()
        lines = [i.line.encode() for i in session.scalars(select(BatchItem))]
        batch.submit_started_at = batch.created_at  # it had begun sending…
        batch_id, model = batch.id, batch.model
    api = registry.current().route(model).batches
    assert api is not None
    api.submit(lines, batch_id)  # …and the provider took it
    _passes(pipeline)
    assert len(providers.state.book.listed("openai")) == 1
    assert all(c["status"] == "filled" for c in _cells(fill_api, rows, _column(database)))


def test_a_restart_mid_run_loses_nothing(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    """Everything the batcher knows is in the database: a new batcher (another process, after
    a restart) takes over from any step, including a batch left building by a dead one."""
    pipeline = economy_settings
    providers.configure(batch_delay_s=3600.0)
    database = _database(fill_api, MODELS["sim"])
    rows = _rows(fill_api, database["id"], 15)
    fill_api.post(
        f"/v1/properties/{_column(database)}/fill", json={"scope": "all", "mode": "economy"}
    )
    economy.pass_once(pipeline.store, pipeline.settings, registry.current())
    # A dead batcher's batch, left building with its lease run out.
    with pipeline.store.transaction() as session:
        for batch in session.scalars(select(ProviderBatch)):
            batch.state, batch.lease_until = "building", batch.created_at - timedelta(minutes=10)
            batch.provider_batch_id = None
    providers.reset()
    providers.configure(batch_delay_s=0.0)
    _passes(pipeline)
    assert all(c["status"] == "filled" for c in _cells(fill_api, rows, _column(database)))


def test_economy_is_refused_for_a_model_without_a_batch_interface(
    fill_api: Caller, economy_settings: Pipeline
) -> None:
    database = _database(fill_api, "compat:local-llama")
    _rows(fill_api, database["id"], 1)
    column = _column(database)
    refused = fill_api.post(f"/v1/properties/{column}/fill", json={"mode": "economy"})
    assert_error(refused, 422, "validation_error", field="mode")
    dry = fill_api.post(f"/v1/properties/{column}/fill", json={"dry_run": True}).get_json()
    assert dry["economy"] is None and "batch interface" in dry["economy_unavailable"]
    bad = fill_api.post(f"/v1/properties/{column}/fill", json={"mode": "cheap"})
    assert_error(bad, 422, "validation_error", field="mode")


def test_batch_spend_is_held_against_the_budget_at_the_batch_price(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    pipeline = economy_settings
    providers.configure(batch_delay_s=3600.0)
    database = _database(fill_api, MODELS["openai"])
    _rows(fill_api, database["id"], 2)
    column = _column(database)
    # The most the two cells may cost at the list price (no cache read counted).
    most = fill_api.post(
        f"/v1/properties/{column}/fill", json={"scope": "all", "dry_run": True}
    ).get_json()["max_cost_usd"]
    fill_api.post(f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"})
    economy.pass_once(pipeline.store, pipeline.settings, registry.current())
    with pipeline.store.transaction() as session:
        held = session.scalars(select(OutboxEntry)).all()
        assert [e.state for e in held] == ["batched", "batched"]
        assert all(e.reserved_tokens > 0 for e in held)
        # Held at half the list price: the batch discount.
        assert sum(e.reserved_usd for e in held) == pytest.approx(most / 2, rel=1e-3)
        batch = session.scalars(select(ProviderBatch)).one()
        assert batch.state == BatchState.SUBMITTED.value
        line = json.loads(session.scalars(select(BatchItem.line)).first() or "{}")
    assert line["url"] == "/v1/chat/completions" and line["method"] == "POST"


def test_the_events_stream_carries_the_runs_batch_progress(
    fill_api: Caller, economy_settings: Pipeline, providers: Simulator
) -> None:
    pipeline = economy_settings
    database = _database(fill_api, MODELS["sim"])
    _rows(fill_api, database["id"], 4)
    run = fill_api.post(
        f"/v1/properties/{_column(database)}/fill", json={"scope": "all", "mode": "economy"}
    ).get_json()
    _passes(pipeline)
    response = fill_api.get(f"/v1/databases/{database['id']}/events?after=0&timeout=0.3")
    runs, cells = [], []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if fields.get("event") == "run":
            runs.append(json.loads(fields["data"]))
        elif fields.get("event") == "cell":
            cells.append(json.loads(fields["data"]))
    assert runs and all(r["run_id"] == run["id"] and r["mode"] == "economy" for r in runs)
    assert runs[0]["batch"]["submitted"] == 4 and runs[0]["batch"]["in_provider_queue"] == 4
    assert runs[-1]["batch"]["in_provider_queue"] == 0 and runs[-1]["state"] == "done"
    assert [c["status"] for c in cells].count("filled") == 4
    # The same counts as the run's own view.
    view = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert runs[-1]["batch"] == view["batch"] and runs[-1]["done"] == view["done"]
