"""/v1/rows/{id}/cells/{property_id}: a person writes an AI cell, or hands it back to the AI."""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.db import Cell, Property, Row
from autofill.schemas import CellOut, CellOverride, FeedbackIn, FeedbackOut
from autofill.services import (
    cell_out,
    get_cell,
    get_database,
    get_property,
    get_row,
    record_feedback,
)
from autofill.services import cells as service

bp = Blueprint("cells", __name__, url_prefix="/v1/rows/<row_id>/cells")
TAG = "cells"


@bp.put("/<property_id>")
@endpoint(
    summary="Override an AI cell: the value is the person's until reset",
    tag=TAG,
    body=CellOverride,
    response=CellOut,
    errors=(404, 422),
)
def override(ctx: Ctx, row_id: str, property_id: str, body: CellOverride) -> CellOut:
    row, prop, cell = _locked_cell(ctx, row_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, row.database_id)
    service.override(
        ctx.session, database, row, prop, cell, body.value, debounce_s=ctx.settings.debounce_s
    )
    return _cell_response(ctx, cell, prop)


@bp.delete("/<property_id>")
@endpoint(
    summary="Remove a person's override: the AI fills the cell again",
    tag=TAG,
    response=CellOut,
    errors=(404,),
)
def reset(ctx: Ctx, row_id: str, property_id: str) -> CellOut:
    row, prop, cell = _locked_cell(ctx, row_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, row.database_id)
    service.reset(ctx.session, database, row, prop, cell, debounce_s=ctx.settings.debounce_s)
    return _cell_response(ctx, cell, prop)


@bp.post("/<property_id>/fill")
@endpoint(
    summary="Fill one AI cell now (a retry of a failed cell, or a refill on request)",
    tag=TAG,
    response=CellOut,
    status=202,
    errors=(404, 409),
)
def fill(ctx: Ctx, row_id: str, property_id: str) -> CellOut:
    row, prop, cell = _locked_cell(ctx, row_id, property_id)
    service.request_fill(ctx.session, ctx.workspace_id, row, prop, cell)
    return _cell_response(ctx, cell, prop)


def _locked_cell(ctx: Ctx, row_id: str, property_id: str) -> tuple[Row, Property, Cell]:
    row = get_row(ctx.session, ctx.workspace_id, row_id, for_update=True)
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    return row, prop, get_cell(ctx.session, row, prop.id)


def _cell_response(ctx: Ctx, cell: Cell, prop: Property) -> CellOut:
    ctx.session.flush()  # server-side defaults (updated_at) are set before serialising
    return cell_out(cell, prop)


@bp.post("/<property_id>/feedback")
@endpoint(
    summary="Thumbs up or down on an AI value; with share, the page may become an eval case",
    tag=TAG,
    body=FeedbackIn,
    response=FeedbackOut,
    status=201,
    errors=(404, 409, 422),
)
def feedback(ctx: Ctx, row_id: str, property_id: str, body: FeedbackIn) -> FeedbackOut:
    row, prop, cell = _locked_cell(ctx, row_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, row.database_id)
    stored = record_feedback(database, row, prop, cell, body)
    ctx.session.add(stored)
    ctx.session.flush()
    return FeedbackOut(
        id=stored.id,
        row_id=stored.row_id,
        property_id=stored.property_id,
        rating=body.rating,
        comment=stored.comment,
        share=stored.share,
        created_at=stored.created_at,
    )
