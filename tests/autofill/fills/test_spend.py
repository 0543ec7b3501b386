"""The counters are named once: the dataclasses and the tables' columns are the same sets."""

from __future__ import annotations

from dataclasses import fields

from autofill.db.models import FillLedger, FillRun, WorkspaceUsage
from autofill.fills.spend import CALLS, LEDGER, RUN, SETTLED, USAGE, Settled, Spend


def _columns(model: type) -> set[str]:
    return set(model.__table__.columns.keys())  # type: ignore[attr-defined]


def test_the_sets_are_the_dataclasses_and_the_columns() -> None:
    assert tuple(f.name for f in fields(Spend)) == USAGE
    assert tuple(f.name for f in fields(Settled)) == SETTLED
    assert CALLS == ("model_calls", "tokens_in", "tokens_out", "cost_usd")
    assert set(USAGE) <= _columns(WorkspaceUsage) and not set(SETTLED) & _columns(WorkspaceUsage)
    assert set(RUN) <= _columns(FillRun) and "fills" not in _columns(FillRun)
    assert set(LEDGER) <= _columns(FillLedger)
