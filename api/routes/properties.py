"""/v1/databases/{id}/properties and /v1/properties/{id}"""

from __future__ import annotations

from flask import Blueprint

from api.endpoint import Ctx, Reply, endpoint
from autofill.errors import InvalidInput
from autofill.schemas import (
    EconomyEstimateOut,
    FillEstimate,
    FillRequest,
    PreviewOut,
    PreviewRequest,
    PropertyCreate,
    PropertyOut,
    PropertyUpdate,
    RunOut,
)
from autofill.services import get_database, get_property, property_out, run_out, runs
from autofill.services import preview as preview_prompt
from autofill.services import properties as service

bp = Blueprint("properties", __name__, url_prefix="/v1")
TAG = "properties"


@bp.post("/databases/<database_id>/properties")
@endpoint(
    summary="Add a property (an AI column when type is `ai`)",
    tag=TAG,
    body=PropertyCreate,
    response=PropertyOut,
    status=201,
    errors=(404, 409, 422),
)
def create(ctx: Ctx, database_id: str, body: PropertyCreate) -> PropertyOut:
    database = get_database(ctx.session, ctx.workspace_id, database_id, for_update=True)
    prop = service.add_property(ctx.session, database, body, default_model=ctx.default_model)
    return property_out(prop, {p.id: p.name for p in database.properties})


@bp.patch("/properties/<property_id>")
@endpoint(
    summary="Rename a property, change its options or its AI configuration",
    tag=TAG,
    body=PropertyUpdate,
    response=PropertyOut,
    errors=(404, 409, 422),
)
def update(ctx: Ctx, property_id: str, body: PropertyUpdate) -> PropertyOut:
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, prop.database_id, for_update=True)
    service.update_property(ctx.session, database, prop, body, default_model=ctx.default_model)
    ctx.session.flush()
    return property_out(prop, {p.id: p.name for p in database.properties})


@bp.delete("/properties/<property_id>")
@endpoint(summary="Delete a property and its values", tag=TAG, errors=(404, 409))
def delete(ctx: Ctx, property_id: str) -> None:
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, prop.database_id, for_update=True)
    service.delete_property(ctx.session, database, prop)


@bp.post("/properties/<property_id>/preview")
@endpoint(
    summary="The exact prompt a fill would send for a row, its tokens and cost; no model call",
    tag=TAG,
    body=PreviewRequest,
    response=PreviewOut,
    errors=(404, 422),
)
def preview(ctx: Ctx, property_id: str, body: PreviewRequest) -> PreviewOut:
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    database = get_database(ctx.session, ctx.workspace_id, prop.database_id)
    return preview_prompt(ctx.session, ctx.workspace_id, database, prop, body)


@bp.post("/properties/<property_id>/fill")
@endpoint(
    summary="Fill an AI column's cells in bulk, or estimate what that would cost (dry_run)",
    tag=TAG,
    body=FillRequest,
    response=RunOut,
    status=202,
    also=((200, FillEstimate),),
    errors=(404, 422),
)
def fill(ctx: Ctx, property_id: str, body: FillRequest) -> RunOut | Reply:
    prop = get_property(ctx.session, ctx.workspace_id, property_id)
    if prop.ai is None:
        raise InvalidInput.field("property_id", f"{prop.name!r} is not an AI column")
    database = get_database(ctx.session, ctx.workspace_id, prop.database_id)
    if body.dry_run:
        estimate = runs.estimate(ctx.session, database, prop, body.scope)
        fields = {**estimate.__dict__}
        economy = fields.pop("economy")
        return Reply(
            FillEstimate(
                property_id=prop.id,
                scope=body.scope,
                economy=EconomyEstimateOut(**economy.__dict__) if economy else None,
                **fields,
            ),
            200,
        )
    return run_out(ctx.session, runs.start(ctx.session, database, prop, body.scope, body.mode))
