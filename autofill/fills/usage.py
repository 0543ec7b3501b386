"""What fills spend, per workspace and UTC calendar month, and the budget that caps it.

A fill reserves what its call may cost at most (prompt tokens plus the answer allowance) while
it runs; the budget check counts spent + reserved, so concurrent fills cannot overshoot it
together. The check and the reservation happen under a lock on the month's usage row, taken
only when the workspace has a budget. Spending is appended to the fill ledger (no shared row
to wait on); what was spent is the month's row plus the ledger's entries not yet folded in.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from autofill.db import Cell, OutboxEntry, Workspace, WorkspaceUsage, upsert, utcnow
from autofill.fills import cell_state, ledger, outbox
from autofill.fills.spend import Spend, period_of
from autofill.kinds import EntryState, ErrorCode

__all__ = [
    "Spend",
    "budget_refusal",
    "period_of",
    "record",
    "resume_parked",
    "this_month",
]


def _ensure_row(session: Session, workspace_id: str, period: str) -> None:
    session.execute(
        upsert(session, WorkspaceUsage).on_conflict_do_nothing(),
        {"workspace_id": workspace_id, "period": period, **asdict(Spend())},
    )


def record(session: Session, workspace_id: str, spend: Spend, run_id: str | None = None) -> None:
    ledger.append(session, workspace_id, run_id=run_id, spend=spend)


def this_month(session: Session, workspace_id: str) -> Spend:
    period = period_of(utcnow())
    found = session.get(WorkspaceUsage, (workspace_id, period))
    return ledger.plus(found, ledger.unfolded_spend(session, workspace_id, period))


def budget_refusal(
    session: Session, workspace: Workspace, *, tokens: int, cost_usd: float
) -> str | None:
    """Why a fill that may spend ``tokens``/``cost_usd`` must not start, or None if it may."""
    if workspace.budget_tokens is None and workspace.budget_usd is None:
        return None
    now = utcnow()
    period = period_of(now)
    _ensure_row(session, workspace.id, period)
    row = session.scalars(
        select(WorkspaceUsage)
        .where(WorkspaceUsage.workspace_id == workspace.id, WorkspaceUsage.period == period)
        .with_for_update()
    ).one()
    spent = ledger.plus(row, ledger.unfolded_spend(session, workspace.id, period))
    reserved_tokens, reserved_usd = session.execute(
        select(
            func.coalesce(func.sum(OutboxEntry.reserved_tokens), 0),
            func.coalesce(func.sum(OutboxEntry.reserved_usd), 0.0),
        ).where(
            OutboxEntry.workspace_id == workspace.id,
            or_(
                and_(
                    OutboxEntry.state == EntryState.RUNNING.value,
                    OutboxEntry.lease_until > now,
                ),
                # Economy fills hold their spend, at the batch price, from their batch's
                # claim until their answer is recorded.
                OutboxEntry.state == EntryState.BATCHED.value,
            ),
        )
    ).one()
    if workspace.budget_tokens is not None:
        used = spent.tokens_in + spent.tokens_out + int(reserved_tokens)
        if used + tokens > workspace.budget_tokens:
            return (
                f"{ErrorCode.BUDGET_EXHAUSTED}: this month's token budget is "
                f"{workspace.budget_tokens:,}; "
                f"{used:,} are spent or held by running fills and this fill may need {tokens:,}"
            )
    if workspace.budget_usd is not None:
        used_usd = spent.cost_usd + float(reserved_usd)
        if used_usd + cost_usd > workspace.budget_usd:
            return (
                f"{ErrorCode.BUDGET_EXHAUSTED}: this month's budget is "
                f"${workspace.budget_usd:.4f}; "
                f"${used_usd:.4f} is spent or held by running fills and this fill may cost "
                f"${cost_usd:.4f}"
            )
    return None


def resume_parked(session: Session, workspace_id: str) -> int:
    """The budget changed: parked fills go back to the outbox; the claim checks again."""
    parked = outbox.unpark_workspace(session, workspace_id)
    for row_id, property_id in parked:
        cell = session.get(Cell, (row_id, property_id))
        if cell is not None:
            cell_state.unpark(cell)
    return len(parked)
