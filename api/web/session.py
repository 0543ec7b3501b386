"""Who is signed in to the web page: the session whose opaque secret the signed cookie holds
(the session itself, and the token that opened it, stay in the database:
autofill.services.web_sessions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import redirect, session, url_for
from flask.typing import ResponseReturnValue

from api.endpoint import settings, store
from autofill.db import Workspace
from autofill.errors import Unauthorized
from autofill.services import SignedIn, web_sessions

SESSION_KEY = "sid"


def signed_in() -> SignedIn | None:
    secret = session.get(SESSION_KEY)
    if not secret:
        return None
    with store().transaction() as db:
        try:
            return web_sessions.resume(db, str(secret), idle_s=settings().web_session_idle_s)
        except Unauthorized:
            session.clear()  # ended, expired or revoked since: sign in again
            return None


def signed_in_workspace() -> Workspace | None:
    found = signed_in()
    return found.workspace if found else None


def sign_in(token: str) -> None:
    """A new session for ``token`` (Unauthorized if it is not valid), its secret in the cookie."""
    with store().transaction() as db:
        secret = web_sessions.open_session(db, token, max_s=settings().web_session_max_s)
    session.clear()
    session[SESSION_KEY] = secret


def sign_out() -> None:
    secret = session.get(SESSION_KEY)
    if secret:
        with store().transaction() as db:
            web_sessions.end_session(db, str(secret))
    session.clear()


def default_model(workspace: Workspace) -> str:
    """As the API does: the workspace's default model, else the server's."""
    return workspace.default_model or settings().default_model


def page(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """A page for signed-in people: others go to the sign-in page. The view gets ``workspace``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        workspace = signed_in_workspace()
        if workspace is None:
            return redirect(url_for("web.login"))
        return view(*args, workspace=workspace, **kwargs)

    return wrapper
