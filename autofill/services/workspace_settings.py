"""A workspace's settings and what it spent: name, default model, budgets, this month's usage."""

from __future__ import annotations

from sqlalchemy.orm import Session

from autofill.db import Workspace, utcnow
from autofill.fills import usage
from autofill.schemas import UsageOut, WorkspaceUpdate


def update_workspace(session: Session, workspace: Workspace, body: WorkspaceUpdate) -> None:
    """Name, default model, budgets; a budget changed resumes the fills it parked."""
    if body.name is not None:
        workspace.name = body.name
    if "default_model" in body.model_fields_set:
        workspace.default_model = body.default_model
    budget = {"budget_tokens", "budget_usd"} & body.model_fields_set
    for name in budget:
        setattr(workspace, name, getattr(body, name))
    session.flush()
    if budget:
        usage.resume_parked(session, workspace.id)


def usage_this_month(session: Session, workspace_id: str) -> UsageOut:
    spent = usage.this_month(session, workspace_id)
    # Dollars are summed over the month's rows and unfolded ledger entries, in whatever order
    # the database adds them: rounded to the 8 decimals each call's cost has, so folding the
    # ledger never changes the last float digit a reader sees.
    fields = {**spent.__dict__, "cost_usd": round(spent.cost_usd, 8)}
    return UsageOut(period=usage.period_of(utcnow()), **fields)
