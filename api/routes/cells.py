"""/v1/rows/{id}/cells/{property_id}: a person writes an AI cell, or hands it back to the AI."""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.schemas import CellOut, CellOverride
from autofill.services import cells as service
from autofill.services.lookup import get_cell, get_database, get_property, get_row
from autofill.services.rows import ai_properties
from autofill.services.serialize import cell_out

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
    row = get_row(ctx.session, ctx.workspace_id, row_id, for_update=True)
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    cell = get_cell(ctx.session, row, prop.id)
    if service.override(cell, prop, body.value):
        database = get_database(ctx.session, ctx.workspace_id, row.database_id)
        service.mark_dependents_changed(row, prop, ai_properties(database))
    ctx.session.flush()
    return cell_out(cell, prop)


@bp.delete("/<property_id>")
@endpoint(
    summary="Remove a person's override: the AI fills the cell again",
    tag=TAG,
    response=CellOut,
    errors=(404,),
)
def reset(ctx: Ctx, row_id: str, property_id: str) -> CellOut:
    row = get_row(ctx.session, ctx.workspace_id, row_id, for_update=True)
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    cell = get_cell(ctx.session, row, prop.id)
    if service.reset(cell, prop):
        database = get_database(ctx.session, ctx.workspace_id, row.database_id)
        service.mark_dependents_changed(row, prop, ai_properties(database))
    ctx.session.flush()
    return cell_out(cell, prop)
