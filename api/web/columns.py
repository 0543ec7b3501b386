"""Adding and editing an AI column from the web page, with a preview of the exact prompt.

A plain form (CSRF-protected) that works without JavaScript: "Preview" validates and shows the
prompt for a chosen row without saving; "Save" goes through the same models and services as
``POST /v1/databases/{id}/properties`` and ``PATCH /v1/properties/{id}``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.endpoint import store
from api.web.blueprint import bp
from api.web.column_form import FORM_ERROR, OUTPUT_TYPES, TASKS, ColumnForm, field_errors
from api.web.session import default_model, page
from autofill.db import Database, Property, Row, Workspace
from autofill.errors import AutofillError, NotFound
from autofill.kinds import CONTENT_INPUT
from autofill.schemas import AIConfigIn, PreviewOut, PropertyCreate, PropertyUpdate
from autofill.services import (
    from_validation_error,
    get_database,
    get_property,
    model_choices,
    model_status,
    preview_draft,
)
from autofill.services import properties as property_service

PREVIEW_ROWS = 50


@bp.route("/databases/<database_id>/columns/new", methods=["GET", "POST"])
@page
def new_column(database_id: str, workspace: Workspace) -> ResponseReturnValue:
    return _column_page(workspace, database_id, None)


@bp.route("/databases/<database_id>/columns/<property_id>", methods=["GET", "POST"])
@page
def edit_column(database_id: str, property_id: str, workspace: Workspace) -> ResponseReturnValue:
    return _column_page(workspace, database_id, property_id)


def _column_page(
    workspace: Workspace, database_id: str, property_id: str | None
) -> ResponseReturnValue:
    with store().transaction() as db:
        try:
            database = get_database(db, workspace.id, database_id)
            prop = _ai_property(db, workspace, database, property_id)
        except NotFound:
            return render_template("not_found.html", workspace=workspace), 404
        form = ColumnForm.from_property(prop) if prop else ColumnForm()
        context = _context(db, workspace, database, prop)
    preview: PreviewOut | None = None
    if request.method == "POST":
        form = ColumnForm.from_request(request.form)
        if request.form.get("action") == "preview":
            preview = _preview(workspace, database_id, property_id, form)
        else:
            saved = _save(workspace, database_id, property_id, form)
            if saved is not None:
                flash(f"“{saved}” saved; its cells fill in the background.")
                return redirect(url_for("web.database", database_id=database_id))
    chosen = form.model or context.get("default_model") or ""
    status = model_status(chosen) if chosen else None
    return render_template(
        "column.html",
        workspace=workspace,
        form=form,
        preview=preview,
        models=model_choices(),
        model_warning=status.warning if status else None,
        tasks=TASKS,
        output_types=OUTPUT_TYPES,
        form_error=form.errors.get(FORM_ERROR),
        **context,
    )  # 200 even with errors: a browser logs any 4xx page load as a console error


def _ai_property(
    db: Session, workspace: Workspace, database: Database, property_id: str | None
) -> Property | None:
    if property_id is None:
        return None
    prop = get_property(db, workspace.id, property_id)
    if prop.database_id != database.id or prop.ai is None:
        raise NotFound("no such AI column")
    return prop


def _context(
    db: Session, workspace: Workspace, database: Database, prop: Property | None
) -> dict[str, Any]:
    readable = [
        {"id": p.id, "name": p.name, "ai": p.ai is not None}
        for p in database.properties
        if prop is None or p.id != prop.id
    ]
    title = next((p.id for p in database.properties if p.type == "title"), None)
    rows = db.scalars(
        select(Row)
        .where(Row.database_id == database.id)
        .order_by(Row.created_at, Row.id)
        .limit(PREVIEW_ROWS)
    )
    return {
        "database": {"id": database.id, "name": database.name},
        "column": {"id": prop.id, "name": prop.name} if prop else None,
        "readable": [{"id": CONTENT_INPUT, "name": "Page content", "ai": False}, *readable],
        "rows": [{"id": row.id, "label": _row_label(row, title)} for row in rows],
        "default_model": default_model(workspace),
    }


def _row_label(row: Row, title_id: str | None) -> str:
    title = row.values.get(title_id) if title_id else None
    text = str(title) if title else row.content.strip().splitlines()[0] if row.content else ""
    return (text[:60] + "…" if len(text) > 60 else text) or row.id


def _save(
    workspace: Workspace, database_id: str, property_id: str | None, form: ColumnForm
) -> str | None:
    """The saved column's name, or None with ``form.errors`` set (nothing written)."""
    try:
        with store().transaction() as db:
            database = get_database(db, workspace.id, database_id, for_update=True)
            model = default_model(workspace)
            if property_id is None:
                created = _validated(PropertyCreate, form.create_body())
                prop = property_service.add_property(db, database, created, default_model=model)
            else:
                prop = get_property(db, workspace.id, property_id)
                update = _validated(PropertyUpdate, form.update_body())
                property_service.update_property(db, database, prop, update, default_model=model)
            return prop.name
    except AutofillError as exc:  # rolled back: nothing half-written
        form.errors = field_errors(exc.message, exc.fields)
        return None


def _preview(
    workspace: Workspace, database_id: str, property_id: str | None, form: ColumnForm
) -> PreviewOut | None:
    if not form.row_id:
        form.errors = {"row_id": "choose a row to preview the prompt for"}
        return None
    try:
        with store().transaction() as db:
            database = get_database(db, workspace.id, database_id)
            config = _validated(AIConfigIn, form.ai_body(), prefix="ai")
            return preview_draft(
                db,
                workspace.id,
                database,
                config,
                row_id=form.row_id,
                prop_id=property_id,
                default_model=default_model(workspace),
            )
    except NotFound:
        form.errors = {"row_id": "that row is gone; choose another"}
    except AutofillError as exc:
        form.errors = field_errors(exc.message, exc.fields)
    return None


M = TypeVar("M", PropertyCreate, PropertyUpdate, AIConfigIn)


def _validated(model: type[M], body: dict[str, Any], prefix: str = "") -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=prefix) from None
