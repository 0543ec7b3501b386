"""/v1/databases/{id}/rows and /v1/rows/{id}"""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.schemas import RowCreate, RowListQuery, RowOut, RowPage, RowUpdate
from autofill.services import get_database, get_row, get_row_and_database, row_out
from autofill.services import rows as service

bp = Blueprint("rows", __name__, url_prefix="/v1")
TAG = "rows"


@bp.post("/databases/<database_id>/rows")
@endpoint(
    summary="Add a row (a page)",
    tag=TAG,
    body=RowCreate,
    response=RowOut,
    status=201,
    errors=(404, 413, 422),
)
def create(ctx: Ctx, database_id: str, body: RowCreate) -> RowOut:
    database = get_database(ctx.session, ctx.workspace_id, database_id)
    return row_out(
        service.create_row(ctx.session, database, body, debounce_s=ctx.settings.debounce_s),
        database,
    )


@bp.get("/databases/<database_id>/rows")
@endpoint(
    summary="List rows, optionally those with an AI cell in a given status",
    tag=TAG,
    query=RowListQuery,
    response=RowPage,
    errors=(404, 422),
)
def index(ctx: Ctx, database_id: str, query: RowListQuery) -> RowPage:
    database = get_database(ctx.session, ctx.workspace_id, database_id)
    items, cursor = service.list_rows(ctx.session, database, query)
    return RowPage(items=[row_out(row, database) for row in items], next_cursor=cursor)


@bp.get("/rows/<row_id>")
@endpoint(
    summary="Get a row with its AI cells and their provenance",
    tag=TAG,
    response=RowOut,
    errors=(404,),
)
def show(ctx: Ctx, row_id: str) -> RowOut:
    row, database = get_row_and_database(ctx.session, ctx.workspace_id, row_id)
    return row_out(row, database)


@bp.patch("/rows/<row_id>")
@endpoint(
    summary="Change some property values or the page content",
    tag=TAG,
    body=RowUpdate,
    response=RowOut,
    errors=(404, 413, 422),
)
def update(ctx: Ctx, row_id: str, body: RowUpdate) -> RowOut:
    row, database = get_row_and_database(ctx.session, ctx.workspace_id, row_id, for_update=True)
    updated = service.update_row(
        ctx.session, database, row, body, debounce_s=ctx.settings.debounce_s
    )
    return row_out(updated, database)


@bp.delete("/rows/<row_id>")
@endpoint(summary="Delete a row", tag=TAG, errors=(404,))
def delete(ctx: Ctx, row_id: str) -> None:
    ctx.session.delete(get_row(ctx.session, ctx.workspace_id, row_id))
