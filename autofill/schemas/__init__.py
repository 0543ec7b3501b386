"""Pydantic models at the edges: what requests may contain and what responses look like.

The API validates with these and generates its OpenAPI document from the same classes.
"""

from autofill.kinds import CellStatus, PropertyType, Task
from autofill.outputs import OutputSpec
from autofill.schemas.common import StrictModel
from autofill.schemas.databases import DatabaseCreate, DatabaseUpdate
from autofill.schemas.properties import AIConfigIn, AIConfigPatch, PropertyCreate, PropertyUpdate
from autofill.schemas.rows import CellOverride, RowCreate, RowListQuery, RowUpdate
from autofill.schemas.views import (
    AIConfigOut,
    CellOut,
    DatabaseOut,
    DatabasePage,
    PropertyOut,
    Provenance,
    RowOut,
    RowPage,
)

__all__ = [
    "AIConfigIn",
    "AIConfigOut",
    "AIConfigPatch",
    "CellOut",
    "CellOverride",
    "CellStatus",
    "DatabaseCreate",
    "DatabaseOut",
    "DatabasePage",
    "DatabaseUpdate",
    "OutputSpec",
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
    "StrictModel",
    "Task",
]
