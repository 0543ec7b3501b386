"""Rows (pages) and the AI cells a person writes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from autofill.kinds import CellStatus
from autofill.schemas.common import Limit, StrictModel

# Documented in README: a page body may hold up to 256 KiB of UTF-8. Longer pages get 413.
MAX_CONTENT_BYTES = 262_144


class RowCreate(StrictModel):
    properties: dict[str, Any] = Field(
        default_factory=dict, description="Values keyed by property name or id (not AI columns)"
    )
    content: str = Field(default="", description="Page body, text or Markdown (256 KiB max)")


class RowUpdate(StrictModel):
    properties: dict[str, Any] | None = Field(
        default=None, description="Only the properties to change; null clears a value"
    )
    content: str | None = None


class CellOverride(StrictModel):
    value: Any = Field(description="A value of the AI column's output type, or null")


class RowListQuery(StrictModel):
    limit: Limit = 50
    cursor: str | None = None
    status: CellStatus | None = Field(
        default=None, description="Only rows with an AI cell in this status"
    )
    property_id: str | None = Field(
        default=None, description="With status: look at this AI column only"
    )


class PageQuery(StrictModel):
    limit: Limit = 50
    cursor: str | None = None
