"""/v1/runs/{id}: a bulk fill's progress, and cancelling it."""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.db import FillRun
from autofill.errors import NotFound
from autofill.schemas import RunOut
from autofill.services import run_out, runs

bp = Blueprint("runs", __name__, url_prefix="/v1/runs")
TAG = "runs"


def _run(ctx: Ctx, run_id: str) -> FillRun:
    run = ctx.session.get(FillRun, run_id)
    if run is None or run.workspace_id != ctx.workspace_id:
        raise NotFound(f"no run {run_id!r} in this workspace")
    return run


@bp.get("/<run_id>")
@endpoint(
    summary="A bulk fill's progress: done, failed, skipped, tokens, cost",
    tag=TAG,
    response=RunOut,
    errors=(404,),
)
def show(ctx: Ctx, run_id: str) -> RunOut:
    return run_out(ctx.session, _run(ctx, run_id))


@bp.delete("/<run_id>")
@endpoint(
    summary="Cancel a bulk fill: fills not started are dropped, those under way finish",
    tag=TAG,
    response=RunOut,
    errors=(404,),
)
def cancel(ctx: Ctx, run_id: str) -> RunOut:
    return run_out(ctx.session, runs.cancel(ctx.session, _run(ctx, run_id)))
