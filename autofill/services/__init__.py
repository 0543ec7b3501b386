"""Use cases over a SQLAlchemy session. Callers own the transaction (commit or roll back).

What the adapters (the API's views, the CLI, the worker) use comes from here: one module per
resource for its use cases, and the few functions every adapter needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.services import (
        cells,
        databases,
        events,
        feedback,
        lookup,
        models,
        properties,
        rows,
        runs,
        serialize,
        store,
        web_sessions,
        workspace_settings,
        workspaces,
    )
    from autofill.services.errors import from_validation_error
    from autofill.services.events import EventHub
    from autofill.services.feedback import record_feedback
    from autofill.services.lookup import (
        get_cell,
        get_database,
        get_property,
        get_row,
        get_row_and_database,
    )
    from autofill.services.models import model_choices, model_status
    from autofill.services.preview import preview, preview_draft
    from autofill.services.serialize import cell_out, database_out, property_out, row_out, run_out
    from autofill.services.store import open_store
    from autofill.services.web_sessions import SignedIn
    from autofill.services.workspaces import authenticate, create_workspace, hash_token

__all__ = [
    "EventHub",
    "SignedIn",
    "authenticate",
    "cell_out",
    "cells",
    "create_workspace",
    "database_out",
    "databases",
    "events",
    "feedback",
    "from_validation_error",
    "get_cell",
    "get_database",
    "get_property",
    "get_row",
    "get_row_and_database",
    "hash_token",
    "lookup",
    "model_choices",
    "model_status",
    "models",
    "open_store",
    "preview",
    "preview_draft",
    "properties",
    "property_out",
    "record_feedback",
    "row_out",
    "rows",
    "run_out",
    "runs",
    "serialize",
    "store",
    "web_sessions",
    "workspace_settings",
    "workspaces",
]

__getattr__ = lazy_face(__name__, __file__)
