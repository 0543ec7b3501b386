"""/v1/workspace: the workspace of the calling token."""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.db.types import utcnow
from autofill.fills import usage
from autofill.schemas.views import UsageOut, WorkspaceOut
from autofill.schemas.workspaces import WorkspaceUpdate

bp = Blueprint("workspace", __name__, url_prefix="/v1/workspace")
TAG = "workspace"


@bp.get("")
@endpoint(summary="The workspace this token belongs to", tag=TAG, response=WorkspaceOut)
def show(ctx: Ctx) -> WorkspaceOut:
    return _out(ctx)


@bp.patch("")
@endpoint(
    summary="Rename the workspace, set its default model or its monthly budgets",
    tag=TAG,
    body=WorkspaceUpdate,
    response=WorkspaceOut,
    errors=(422,),
)
def update(ctx: Ctx, body: WorkspaceUpdate) -> WorkspaceOut:
    assert ctx.workspace is not None
    if body.name is not None:
        ctx.workspace.name = body.name
    if "default_model" in body.model_fields_set:
        ctx.workspace.default_model = body.default_model
    budget = {"budget_tokens", "budget_usd"} & body.model_fields_set
    for name in budget:
        setattr(ctx.workspace, name, getattr(body, name))
    ctx.session.flush()
    if budget:
        usage.resume_parked(ctx.session, ctx.workspace.id)
    return _out(ctx)


def _out(ctx: Ctx) -> WorkspaceOut:
    assert ctx.workspace is not None
    spent = usage.this_month(ctx.session, ctx.workspace.id)
    return WorkspaceOut(
        id=ctx.workspace.id,
        name=ctx.workspace.name,
        default_model=ctx.workspace.default_model,
        effective_default_model=ctx.default_model,
        budget_tokens=ctx.workspace.budget_tokens,
        budget_usd=ctx.workspace.budget_usd,
        usage=UsageOut(period=usage.period_of(utcnow()), **spent.__dict__),
        created_at=ctx.workspace.created_at,
    )
