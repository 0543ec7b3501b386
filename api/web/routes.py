"""Server-rendered pages. The signed session cookie (HttpOnly, SameSite) holds an opaque session
id; the session and its token stay on the server (api.web.session);
forms carry a CSRF token; the table's script calls the REST API with the cookie and the CSRF
header, and listens to the events stream."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from api.endpoint import store
from api.web.blueprint import bp
from api.web.session import SESSION_KEY, page, sign_in, sign_out
from autofill.db import Workspace
from autofill.errors import NotFound, Unauthorized
from autofill.services import database_out, get_database
from autofill.services import databases as database_service
from autofill.services import events as event_feed


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("web.databases" if session.get(SESSION_KEY) else "web.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    if request.method == "POST":
        token = (request.form.get("token") or "").strip()
        try:
            sign_in(token)
        except Unauthorized:
            error = "That token is unknown or revoked."
        else:
            return redirect(url_for("web.databases"))
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for("web.login"))  # type: ignore[return-value]


@bp.get("/databases")
@page
def databases(workspace: Workspace) -> ResponseReturnValue:
    with store().transaction() as db:
        items, _ = database_service.list_databases(db, workspace.id, limit=200, cursor=None)
        listed: list[dict[str, Any]] = [
            {"id": d.id, "name": d.name, "columns": len(d.properties)} for d in items
        ]
    return render_template("databases.html", workspace=workspace, databases=listed)


@bp.get("/databases/<database_id>")
@page
def database(database_id: str, workspace: Workspace) -> ResponseReturnValue:
    with store().transaction() as db:
        try:
            found = database_out(get_database(db, workspace.id, database_id))
            # Taken before the page loads its rows: the stream starts here, so a cell that
            # changes between this page and its rows request is not missed.
            position = event_feed.last_position(db, database_id)
        except NotFound:
            return render_template("not_found.html", workspace=workspace), 404
    # Answers from the LLM simulator must never pass for a model's: say so on the page.
    simulated = any(p.ai is not None and p.ai.model.startswith("sim:") for p in found.properties)
    return render_template(
        "database.html",
        workspace=workspace,
        database=found.model_dump(mode="json"),
        simulated=simulated,
        events_after=position,
    )
