"""/v1/databases"""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, endpoint
from autofill.schemas import DatabaseCreate, DatabaseOut, DatabasePage, DatabaseUpdate, PageQuery
from autofill.services import database_out, get_database
from autofill.services import databases as service

bp = Blueprint("databases", __name__, url_prefix="/v1/databases")
TAG = "databases"


@bp.post("")
@endpoint(
    summary="Create a database with its properties",
    tag=TAG,
    body=DatabaseCreate,
    response=DatabaseOut,
    status=201,
    errors=(409, 422),
)
def create(ctx: Ctx, body: DatabaseCreate) -> DatabaseOut:
    database = service.create_database(
        ctx.session, ctx.workspace_id, body, default_model=ctx.default_model
    )
    return database_out(database)


@bp.get("")
@endpoint(summary="List databases", tag=TAG, query=PageQuery, response=DatabasePage)
def index(ctx: Ctx, query: PageQuery) -> DatabasePage:
    items, cursor = service.list_databases(
        ctx.session, ctx.workspace_id, limit=query.limit, cursor=query.cursor
    )
    return DatabasePage(items=[database_out(d) for d in items], next_cursor=cursor)


@bp.get("/<database_id>")
@endpoint(summary="Get a database", tag=TAG, response=DatabaseOut, errors=(404,))
def show(ctx: Ctx, database_id: str) -> DatabaseOut:
    return database_out(get_database(ctx.session, ctx.workspace_id, database_id))


@bp.patch("/<database_id>")
@endpoint(
    summary="Rename a database or reorder its properties",
    tag=TAG,
    body=DatabaseUpdate,
    response=DatabaseOut,
    errors=(404, 422),
)
def update(ctx: Ctx, database_id: str, body: DatabaseUpdate) -> DatabaseOut:
    database = get_database(ctx.session, ctx.workspace_id, database_id, for_update=True)
    service.update_database(database, body)
    ctx.session.flush()
    return database_out(database)


@bp.delete("/<database_id>")
@endpoint(summary="Delete a database, its rows and cells", tag=TAG, errors=(404,))
def delete(ctx: Ctx, database_id: str) -> None:
    service.delete_database(ctx.session, get_database(ctx.session, ctx.workspace_id, database_id))
