"""The fill ledger: fills append what they spent and how they ended; readers add the entries
not yet folded to the month's usage row and to the run's row; the sweeper folds them in.

Appending takes no lock another fill waits on, so fills in flight do not queue behind one
counter row. Folding deletes entries with RETURNING and adds exactly what it deleted, so an
entry that commits while a fold runs is either folded or left for the next one, never lost
or counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from autofill.db.models import FillLedger, FillRun, WorkspaceUsage
from autofill.db.types import utcnow
from autofill.kinds import RunState


@dataclass(frozen=True)
class Spend:
    fills: int = 0
    fills_avoided: int = 0
    model_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Settled:
    """A run's cells by how they ended."""

    done: int = 0
    failed: int = 0
    skipped: int = 0


_SPEND = [f.name for f in fields(Spend)]
_SETTLED = [f.name for f in fields(Settled)]


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def append(
    session: Session,
    workspace_id: str,
    *,
    run_id: str | None = None,
    spend: Spend = Spend(),
    settled: Settled = Settled(),
) -> None:
    now = utcnow()
    session.add(
        FillLedger(
            workspace_id=workspace_id,
            period=period_of(now),
            run_id=run_id,
            created_at=now,
            **{name: getattr(spend, name) for name in _SPEND},
            **{name: getattr(settled, name) for name in _SETTLED},
        )
    )


def _typed(name: str, value: Any) -> Any:
    """Sums come back as numbers of any kind: cost is a float, every other counter an int."""
    return float(value) if name == "cost_usd" else int(value)


def plus(row: Any, extra: Spend) -> Spend:
    """A row holding the spend counters (the month's usage) plus what is not folded in yet."""
    if row is None:
        return extra
    return Spend(**{n: getattr(row, n) + getattr(extra, n) for n in _SPEND})


def unfolded_spend(session: Session, workspace_id: str, period: str) -> Spend:
    sums = session.execute(
        select(*(func.coalesce(func.sum(getattr(FillLedger, n)), 0) for n in _SPEND)).where(
            FillLedger.workspace_id == workspace_id, FillLedger.period == period
        )
    ).one()
    return Spend(**{n: _typed(n, v) for n, v in zip(_SPEND, sums, strict=True)})


@dataclass(frozen=True)
class RunTotals:
    spend: Spend
    settled: Settled
    last_at: datetime | None


def run_totals(session: Session, run: FillRun) -> RunTotals:
    """The run's row plus its entries not yet folded."""
    names = [*_SPEND[2:], *_SETTLED]  # a run counts calls, tokens, cost and outcomes
    found = session.execute(
        select(
            *(func.coalesce(func.sum(getattr(FillLedger, n)), 0) for n in names),
            func.max(FillLedger.created_at),
        ).where(FillLedger.run_id == run.id)
    ).one()
    extra = {n: _typed(n, v) for n, v in zip(names, found[:-1], strict=True)}
    spend = Spend(**{n: getattr(run, n) + extra[n] for n in _SPEND[2:]})
    settled = Settled(**{n: getattr(run, n) + extra[n] for n in _SETTLED})
    return RunTotals(spend, settled, found[-1])


def fold(session: Session, limit: int = 50_000) -> int:
    """Fold up to ``limit`` entries into the usage and run rows; returns how many."""
    upto = session.scalar(
        select(FillLedger.id).order_by(FillLedger.id).offset(limit - 1).limit(1)
    ) or session.scalar(select(func.max(FillLedger.id)))
    if upto is None:
        return 0
    taken = session.execute(
        delete(FillLedger)
        .where(FillLedger.id <= upto)
        .returning(
            FillLedger.workspace_id,
            FillLedger.period,
            FillLedger.run_id,
            FillLedger.created_at,
            *(getattr(FillLedger, n) for n in [*_SPEND, *_SETTLED]),
        )
    ).all()
    usage: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * len(_SPEND))
    by_run: dict[str, list[float]] = defaultdict(lambda: [0.0] * (len(_SPEND) + len(_SETTLED)))
    last_at: dict[str, datetime] = {}
    for workspace_id, period, run_id, created_at, *values in taken:
        totals = usage[(workspace_id, period)]
        for i in range(len(_SPEND)):
            totals[i] += values[i]
        if run_id is not None:
            last_at[run_id] = max(created_at, last_at.get(run_id, created_at))
            run_totals_ = by_run[run_id]
            for i, value in enumerate(values):
                run_totals_[i] += value
    for (workspace_id, period), totals in sorted(usage.items()):
        _add_usage(session, workspace_id, period, totals)
    for run_id, run_sums in sorted(by_run.items()):
        named = dict(zip([*_SPEND, *_SETTLED], run_sums, strict=True))
        session.execute(
            update(FillRun)
            .where(FillRun.id == run_id)
            .values(
                **{n: getattr(FillRun, n) + _typed(n, named[n]) for n in [*_SPEND[2:], *_SETTLED]}
            )
        )
        _finish_if_complete(session, run_id, last_at[run_id])
    return len(taken)


def _finish_if_complete(session: Session, run_id: str, last_at: datetime) -> None:
    settled = FillRun.done + FillRun.failed + FillRun.skipped
    session.execute(
        update(FillRun)
        .where(
            FillRun.id == run_id, FillRun.state == RunState.RUNNING.value, settled >= FillRun.total
        )
        .values(state=RunState.DONE.value, finished_at=last_at)
    )


def _add_usage(session: Session, workspace_id: str, period: str, totals: list[float]) -> None:
    values = {n: _typed(n, t) for n, t in zip(_SPEND, totals, strict=True)}
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(WorkspaceUsage)
    statement = insert.values(workspace_id=workspace_id, period=period, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "period"],
            set_={n: getattr(WorkspaceUsage, n) + statement.excluded[n] for n in _SPEND},
        )
    )
