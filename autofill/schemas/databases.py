"""Database definitions."""

from __future__ import annotations

from pydantic import Field

from autofill.schemas.common import Name, StrictModel
from autofill.schemas.properties import PropertyCreate

MAX_PROPERTIES = 200


class DatabaseCreate(StrictModel):
    name: Name
    properties: list[PropertyCreate] = Field(default_factory=list, max_length=MAX_PROPERTIES)


class DatabaseUpdate(StrictModel):
    name: Name | None = None
    property_order: list[str] | None = Field(
        default=None, description="Every property id of the database, in the new order"
    )
