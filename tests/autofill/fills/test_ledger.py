"""The fill ledger: what fills spend is appended, read as row + entries, and folded into the
rows by the sweeper without changing what anyone reads."""

from __future__ import annotations

from typing import Any

from autofill.db.models import FillLedger, FillRun
from autofill.db.session import Store
from autofill.fills import ledger
from autofill.fills.spend import Spend
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


def test_entries_are_written_at_commit_read_before_it_and_dropped_with_a_rollback(
    store: Store,
) -> None:
    spent = Spend(fills=1, model_calls=1, tokens_in=120, tokens_out=30)
    with store.transaction() as session:
        ledger.append(session, "ws_ledger", spend=spent)
        ledger.append(session, "ws_ledger", spend=spent)
        # Not written yet (one INSERT for all at commit), yet a reader here sees both.
        period = session.info[ledger._APPENDED][0]["period"]
        assert ledger.unfolded_spend(session, "ws_ledger", period).tokens_in == 240
        ledger.append(session, "ws_ledger", spend=spent)  # after a read: written at commit
    assert _count(store) == 3

    try:
        with store.transaction() as session:
            ledger.append(session, "ws_ledger", spend=spent)
            raise RuntimeError("the fill's transaction fails")
    except RuntimeError:
        pass
    assert _count(store) == 3  # the failed transaction's entry went with it

    session = store.sessions()
    with session.begin():
        ledger.append(session, "ws_ledger", spend=spent)
        session.rollback()
    with session.begin():  # the same session again: nothing of the rolled-back one is left
        ledger.append(session, "ws_ledger", spend=spent)
    session.close()
    assert _count(store) == 4
    with store.transaction() as session:
        assert ledger.unfolded_spend(session, "ws_ledger", period).tokens_in == 480
