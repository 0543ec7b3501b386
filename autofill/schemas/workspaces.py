"""The workspace a token belongs to."""

from __future__ import annotations

from pydantic import Field

from autofill.schemas.common import Name, StrictModel
from autofill.schemas.properties import ModelRef


class WorkspaceUpdate(StrictModel):
    name: Name | None = None
    default_model: ModelRef | None = Field(
        default=None, description="Model for new AI columns that name none; null: the server's"
    )
