"""What a fill counts, read back from the process's registry as a scrape would see it: its
outcome, its tokens and dollars, its provider call, its timings; and the dispatcher's count of
the outbox."""

from __future__ import annotations

from prometheus_client import REGISTRY

from autofill.fills.dispatch import count_for_metrics
from autofill.kinds import Outcome
from autofill.llm.simulator.server import Simulator
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import NOTES_DB, _row
from tests.conftest import Caller
from tests.helpers import make_database


def _read(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_fill_is_counted_once_with_its_spend_and_timings(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    workspace = fill_api.workspace_id
    row = _row(fill_api, database["id"], "The launch slipped a week. Marketing is unhappy.")
    filled = {"outcome": "filled", "error_code": "", "lane": "interactive", "workspace": workspace}
    calls = {"provider": "sim", "model": "sim-1", "status": "200"}
    before = {
        "filled": _read("autofill_fills_total", **filled),
        "calls": _read("autofill_provider_calls_total", **calls),
        "model_call": _read(
            "autofill_fill_model_call_seconds_count", provider="sim", lane="interactive"
        ),
        "queue": _read("autofill_fill_queue_wait_seconds_count", lane="interactive"),
        "record": _read("autofill_fill_record_seconds_count", lane="interactive"),
    }

    assert pipeline.drain() == [Outcome.FILLED]
    provenance = fill_api.get(f"/v1/rows/{row['id']}").get_json()["cells"]["Summary"]["provenance"]

    assert _read("autofill_fills_total", **filled) == before["filled"] + 1
    assert _read("autofill_provider_calls_total", **calls) == before["calls"] + 1
    spend = {"provider": "sim", "model": "sim-1", "workspace": workspace}
    assert _read("autofill_tokens_total", kind="input", **spend) == provenance["tokens_in"]
    assert _read("autofill_tokens_total", kind="output", **spend) == provenance["tokens_out"]
    assert (
        _read("autofill_fill_model_call_seconds_count", provider="sim", lane="interactive")
        == before["model_call"] + 1
    )
    assert (
        _read("autofill_fill_queue_wait_seconds_count", lane="interactive") == before["queue"] + 1
    )
    assert _read("autofill_fill_record_seconds_count", lane="interactive") == before["record"] + 1
    assert _read("autofill_fills_in_flight") == 0


def test_a_failed_fill_is_counted_with_its_error_code(
    fill_api: Caller, pipeline: Pipeline, sim: Simulator
) -> None:
    database = make_database(fill_api, NOTES_DB)
    workspace = fill_api.workspace_id
    _row(fill_api, database["id"], "Anything.")
    sim.configure(schedule=["400"])  # the provider refuses the request for good
    outcomes = pipeline.drain()
    assert outcomes == [Outcome.FAILED]
    samples = [
        sample
        for family in REGISTRY.collect()
        if family.name == "autofill_fills"
        for sample in family.samples
        if sample.labels.get("workspace") == workspace and sample.name.endswith("_total")
    ]
    assert [(s.labels["outcome"], s.value) for s in samples] == [("failed", 1.0)]
    assert samples[0].labels["error_code"]  # the cell's error code, e.g. provider_error
    assert _read("autofill_provider_calls_total", provider="sim", model="sim-1", status="400") >= 1


def test_the_dispatcher_counts_the_outbox(fill_api: Caller, pipeline: Pipeline) -> None:
    database = make_database(fill_api, NOTES_DB)
    workspace = fill_api.workspace_id
    for n in range(3):
        _row(fill_api, database["id"], f"Page {n}.")
    count_for_metrics(pipeline.store)
    waiting = {"lane": "interactive", "state": "waiting", "workspace": workspace}
    assert _read("autofill_outbox_entries", **waiting) == 3
    pipeline.drain()
    count_for_metrics(pipeline.store)
    assert REGISTRY.get_sample_value("autofill_outbox_entries", waiting) is None
