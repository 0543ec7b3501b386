"""Who is signed in to the web page: the workspace token kept in the signed session cookie."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import redirect, session, url_for
from flask.typing import ResponseReturnValue

from api.endpoint import settings, store
from autofill.db import Workspace
from autofill.errors import Unauthorized
from autofill.services import authenticate


def signed_in_workspace() -> Workspace | None:
    token = session.get("token")
    if not token:
        return None
    with store().transaction() as db:
        try:
            return authenticate(db, str(token))
        except Unauthorized:
            session.clear()  # revoked since: sign in again
            return None


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
