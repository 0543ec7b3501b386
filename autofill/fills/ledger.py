"""The fill ledger: fills append what they spent and how they ended; readers add the entries
not yet folded to the month's usage row and to the run's row; the sweeper folds them in.

Appending takes no lock another fill waits on, so fills in flight do not queue behind one
counter row. Folding deletes entries with RETURNING and adds exactly what it deleted, so an
entry that commits while a fold runs is either folded or left for the next one, never lost
or counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, event, func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from autofill.db import FillLedger, FillRun, WorkspaceUsage, upsert, utcnow
from autofill.fills import run_state
from autofill.fills.spend import (
    CALLS,
    LEDGER,
    NONE_SETTLED,
    NOTHING_SPENT,
    RUN,
    SETTLED,
    USAGE,
    Settled,
    Spend,
    period_of,
    typed,
)


def append(
    session: Session,
    workspace_id: str,
    *,
    run_id: str | None = None,
    spend: Spend = NOTHING_SPENT,
    settled: Settled = NONE_SETTLED,
) -> None:
    now = utcnow()
    entry: dict[str, Any] = {
        "workspace_id": workspace_id,
        "period": period_of(now),
        "run_id": run_id,
        "created_at": now,
        **{name: getattr(spend, name) for name in USAGE},
        **{name: getattr(settled, name) for name in SETTLED},
    }
    session.info.setdefault(_APPENDED, []).append(entry)


# Entries appended in a transaction and not written yet. They are written together, by one
# executemany of a plain INSERT, before the transaction commits and before any reader here
# sums the ledger. Added as ORM objects they were written with RETURNING of their ids (ids
# nobody reads), which PostgreSQL's driver cannot keep prepared: one statement of a different
# length for each number of entries, parsed anew each time (issue 21, bench.fill_steps).
_APPENDED = "autofill.ledger.appended"


def write_appended(session: Session) -> None:
    """Write what this transaction appended so far (readers call it first)."""
    appended = session.info.pop(_APPENDED, None)
    if appended:
        table = FillLedger.__table__
        assert isinstance(table, Table)
        session.connection().execute(insert(table), appended)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_appended(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    # A transaction that rolled back (or was closed) takes its unwritten entries with it; a
    # session used again starts with none. (Nothing here appends within a savepoint: one
    # rolled back would not take back the entries appended within it.)
    if transaction.parent is None:
        session.info.pop(_APPENDED, None)


def plus(row: Any, extra: Spend) -> Spend:
    """A row holding the spend counters (the month's usage) plus what is not folded in yet."""
    if row is None:
        return extra
    return Spend(**{n: getattr(row, n) + getattr(extra, n) for n in USAGE})


def unfolded_spend(session: Session, workspace_id: str, period: str) -> Spend:
    write_appended(session)
    sums = session.execute(
        select(*(func.coalesce(func.sum(getattr(FillLedger, n)), 0) for n in USAGE)).where(
            FillLedger.workspace_id == workspace_id, FillLedger.period == period
        )
    ).one()
    return Spend(**{n: typed(n, v) for n, v in zip(USAGE, sums, strict=True)})


@dataclass(frozen=True)
class RunTotals:
    spend: Spend
    settled: Settled
    last_at: datetime | None


def run_totals(session: Session, run: FillRun) -> RunTotals:
    """The run's row plus its entries not yet folded."""
    write_appended(session)
    found = session.execute(
        select(
            *(func.coalesce(func.sum(getattr(FillLedger, n)), 0) for n in RUN),
            func.max(FillLedger.created_at),
        ).where(FillLedger.run_id == run.id)
    ).one()
    extra = {n: typed(n, v) for n, v in zip(RUN, found[:-1], strict=True)}
    spend = Spend(**{n: getattr(run, n) + extra[n] for n in CALLS})
    settled = Settled(**{n: getattr(run, n) + extra[n] for n in SETTLED})
    return RunTotals(spend, settled, found[-1])


def fold(session: Session, limit: int = 50_000) -> int:
    """Fold up to ``limit`` entries into the usage and run rows; returns how many."""
    write_appended(session)
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
            *(getattr(FillLedger, n) for n in LEDGER),
        )
    ).all()
    usage: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(USAGE, 0))
    by_run: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(RUN, 0))
    last_at: dict[str, datetime] = {}
    for workspace_id, period, run_id, created_at, *values in taken:
        entry = dict(zip(LEDGER, values, strict=True))
        _add(usage[(workspace_id, period)], entry)
        if run_id is not None:
            last_at[run_id] = max(created_at, last_at.get(run_id, created_at))
            _add(by_run[run_id], entry)
    for (workspace_id, period), totals in sorted(usage.items()):
        _add_usage(session, workspace_id, period, totals)
    for run_id, sums in sorted(by_run.items()):
        session.execute(
            update(FillRun)
            .where(FillRun.id == run_id)
            .values(**{n: getattr(FillRun, n) + typed(n, sums[n]) for n in RUN})
        )
        run_state.finish_if_complete(session, run_id, last_at[run_id])
    return len(taken)


def _add(totals: dict[str, float], entry: dict[str, float]) -> None:
    for name in totals:
        totals[name] += entry[name]


def _add_usage(session: Session, workspace_id: str, period: str, totals: dict[str, float]) -> None:
    values = {n: typed(n, totals[n]) for n in USAGE}
    statement = upsert(session, WorkspaceUsage).values(
        workspace_id=workspace_id, period=period, **values
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "period"],
            set_={n: getattr(WorkspaceUsage, n) + statement.excluded[n] for n in USAGE},
        )
    )
