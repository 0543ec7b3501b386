"""Response shapes. Values are keyed by property name, the way people read a table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from autofill.kinds import CellStatus, PropertyType, Task
from autofill.outputs import OutputSpec


class ModelStatusOut(BaseModel):
    status: str = Field(description="`active` or `deprecated` (retired models are refused)")
    retires_on: str | None = Field(description="When the provider stops serving it, if announced")
    replacement: str | None
    warning: str | None = Field(description="What to tell the person who chose this model")


class AIConfigOut(BaseModel):
    task: Task
    instruction: str | None
    inputs: list[str] = Field(description="Property names read, `content` for the page body")
    input_ids: list[str] = Field(description="The same inputs by property id")
    target_language: str | None
    output: OutputSpec
    model: str
    model_status: ModelStatusOut | None = Field(
        default=None, description="The model's lifecycle; null when it is no longer known"
    )
    auto_update: bool
    max_input_tokens: int | None


class PropertyOut(BaseModel):
    id: str
    database_id: str
    name: str
    type: PropertyType
    position: int
    options: list[str] | None
    ai: AIConfigOut | None
    created_at: datetime
    updated_at: datetime


class DatabaseOut(BaseModel):
    id: str
    name: str
    properties: list[PropertyOut]
    created_at: datetime
    updated_at: datetime


class Provenance(BaseModel):
    """Who wrote an AI value and how: present on cells the AI filled."""

    prompt_version: str | None
    model: str | None
    input_hash: str | None
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    truncated: bool | None
    filled_at: datetime | None


class CellOut(BaseModel):
    property_id: str
    property: str
    value: Any
    status: CellStatus
    error: str | None
    error_code: str | None = Field(
        default=None,
        description="budget_exhausted, provider_error, invalid_answer or prompt_error",
    )
    written_by: str = Field(description="`ai`, `person` (overridden) or `nobody` yet")
    provenance: Provenance | None
    overridden_at: datetime | None
    updated_at: datetime


class RowOut(BaseModel):
    id: str
    database_id: str
    properties: dict[str, Any] = Field(description="Non-AI values by property name")
    cells: dict[str, CellOut] = Field(description="AI cells by property name")
    content: str
    version: int
    created_at: datetime
    updated_at: datetime


class DatabasePage(BaseModel):
    items: list[DatabaseOut]
    next_cursor: str | None


class RowPage(BaseModel):
    items: list[RowOut]
    next_cursor: str | None


class UsageOut(BaseModel):
    """What fills spent this UTC calendar month."""

    period: str = Field(description="YYYY-MM, UTC")
    fills: int
    fills_avoided: int = Field(description="Fills skipped: same inputs and prompt as the value")
    model_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


class WorkspaceOut(BaseModel):
    id: str
    name: str
    default_model: str | None = Field(description="For new AI columns that name no model")
    effective_default_model: str = Field(description="default_model, or the server's default")
    budget_tokens: int | None = Field(description="Monthly token cap; null: none")
    budget_usd: float | None = Field(description="Monthly dollar cap; null: none")
    usage: UsageOut
    created_at: datetime
