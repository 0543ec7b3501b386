"""The web page's blueprint; each page module registers its views on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _operator() -> dict[str, object]:
    """``is_operator(workspace)`` for templates: may this workspace see server-wide pages."""
    from api.endpoint import settings

    return {
        "is_operator": lambda workspace: (
            workspace is not None and workspace.id in settings().operators
        )
    }
