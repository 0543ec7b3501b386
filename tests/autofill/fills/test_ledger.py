"""The fill ledger: what fills spend is appended, read as row + entries, and folded into the
rows by the sweeper without changing what anyone reads."""

from __future__ import annotations

from typing import Any

from autofill.db.models import FillLedger, FillRun
from autofill.db.session import Store
from autofill.fills import ledger
from autofill.kinds import Outcome
from tests.autofill.fills.conftest import Pipeline
from tests.autofill.fills.test_fill import _row
from tests.autofill.fills.test_runs_budgets import MANUAL_DB, _summary_id
from tests.conftest import Caller
from tests.helpers import make_database


def _count(store: Store) -> int:
    with store.transaction() as session:
        return session.query(FillLedger).count()


def test_folding_changes_nothing_anyone_reads_and_finishes_the_run(
    fill_api: Caller, pipeline: Pipeline, store: Store
) -> None:
    database = make_database(fill_api, MANUAL_DB)
    for n in range(5):
        _row(fill_api, database["id"], f"Call {n}. The client wants a refund.")
    prop_id = _summary_id(database)
    run = fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"}).get_json()
    assert pipeline.drain() == [Outcome.FILLED] * 5
    before_run = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    before_usage = fill_api.get("/v1/workspace").get_json()["usage"]
    assert before_run["state"] == "done" and before_run["done"] == 5
    assert before_usage["fills"] == 5 and before_usage["model_calls"] == 5
    with store.transaction() as session:
        stored = session.get(FillRun, run["id"])
        assert stored is not None and (stored.state, stored.done) == ("running", 0)
    assert _count(store) == 10  # five spends, five outcomes: no shared row was updated

    with store.transaction() as session:
        assert ledger.fold(session) == 10
    assert _count(store) == 0
    after_run: dict[str, Any] = fill_api.get(f"/v1/runs/{run['id']}").get_json()
    assert after_run == before_run
    assert fill_api.get("/v1/workspace").get_json()["usage"] == before_usage
    with store.transaction() as session:
        stored = session.get(FillRun, run["id"])
        assert stored is not None and (stored.state, stored.done) == ("done", 5)
        assert ledger.fold(session) == 0  # nothing twice


def test_folding_in_pieces_adds_up(fill_api: Caller, pipeline: Pipeline, store: Store) -> None:
    database = make_database(fill_api, MANUAL_DB)
    for n in range(4):
        _row(fill_api, database["id"], f"Note {n}.")
    prop_id = _summary_id(database)
    fill_api.post(f"/v1/properties/{prop_id}/fill", json={"scope": "all"})
    pipeline.drain()
    usage = fill_api.get("/v1/workspace").get_json()["usage"]
    with store.transaction() as session:
        assert ledger.fold(session, limit=3) == 3
    assert fill_api.get("/v1/workspace").get_json()["usage"] == usage
    with store.transaction() as session:
        assert ledger.fold(session, limit=3) == 3
        assert ledger.fold(session, limit=3) == 2
    assert fill_api.get("/v1/workspace").get_json()["usage"] == usage
