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
    budget_tokens: int | None = Field(
        default=None,
        ge=0,
        le=10**15,
        description="Tokens fills may spend per UTC calendar month; null: no cap",
    )
    budget_usd: float | None = Field(
        default=None,
        ge=0,
        le=1e9,
        allow_inf_nan=False,
        description="Dollars fills may spend per UTC calendar month; null: no cap",
    )
