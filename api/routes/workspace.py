"""/v1/workspace: the workspace of the calling token."""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.schemas import WorkspaceOut, WorkspaceUpdate
from autofill.services import workspace_settings

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
    workspace_settings.update_workspace(ctx.session, ctx.workspace, body)
    return _out(ctx)


def _out(ctx: Ctx) -> WorkspaceOut:
    assert ctx.workspace is not None
    return WorkspaceOut(
        id=ctx.workspace.id,
        name=ctx.workspace.name,
        default_model=ctx.workspace.default_model,
        effective_default_model=ctx.default_model,
        budget_tokens=ctx.workspace.budget_tokens,
        budget_usd=ctx.workspace.budget_usd,
        usage=workspace_settings.usage_this_month(ctx.session, ctx.workspace.id),
        created_at=ctx.workspace.created_at,
    )
