"""Pydantic models at the edges: what requests may contain and what responses look like.

The API validates with these and generates its OpenAPI document from the same classes. What
other packages use comes from here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.kinds import CellStatus, PropertyType, Task
    from autofill.outputs import OutputSpec
    from autofill.schemas.common import Limit, Name, StrictModel
    from autofill.schemas.databases import DatabaseCreate, DatabaseUpdate
    from autofill.schemas.events import MAX_POSITION, EventsQuery
    from autofill.schemas.feedback import FeedbackIn, FeedbackOut
    from autofill.schemas.fills import (
        BatchProgressOut,
        EconomyEstimateOut,
        FillEstimate,
        FillRequest,
        RunOut,
    )
    from autofill.schemas.preview import PreviewMessage, PreviewOut, PreviewRequest
    from autofill.schemas.properties import (
        AIConfigIn,
        AIConfigPatch,
        PropertyCreate,
        PropertyUpdate,
    )
    from autofill.schemas.rows import (
        MAX_CONTENT_BYTES,
        CellOverride,
        PageQuery,
        RowCreate,
        RowListQuery,
        RowUpdate,
    )
    from autofill.schemas.views import (
        AIConfigOut,
        CellOut,
        DatabaseOut,
        DatabasePage,
        ModelStatusOut,
        PropertyOut,
        Provenance,
        RowOut,
        RowPage,
        UsageOut,
        WorkspaceOut,
    )
    from autofill.schemas.workspaces import WorkspaceUpdate

__all__ = [
    "MAX_CONTENT_BYTES",
    "MAX_POSITION",
    "AIConfigIn",
    "AIConfigOut",
    "AIConfigPatch",
    "BatchProgressOut",
    "CellOut",
    "CellOverride",
    "CellStatus",
    "DatabaseCreate",
    "DatabaseOut",
    "DatabasePage",
    "DatabaseUpdate",
    "EconomyEstimateOut",
    "EventsQuery",
    "FeedbackIn",
    "FeedbackOut",
    "FillEstimate",
    "FillRequest",
    "Limit",
    "ModelStatusOut",
    "Name",
    "OutputSpec",
    "PageQuery",
    "PreviewMessage",
    "PreviewOut",
    "PreviewRequest",
    "PropertyCreate",
    "PropertyOut",
    "PropertyType",
    "PropertyUpdate",
    "Provenance",
    "RowCreate",
    "RowListQuery",
    "RowOut",
    "RowPage",
    "RowUpdate",
    "RunOut",
    "StrictModel",
    "Task",
    "UsageOut",
    "WorkspaceOut",
    "WorkspaceUpdate",
]

__getattr__ = lazy_face(__name__, __file__)
