"""Bulk fills, single-cell fills and their progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from autofill.kinds import RunState, Scope
from autofill.schemas.common import StrictModel


class FillRequest(StrictModel):
    scope: Scope = Field(
        default=Scope.EMPTY,
        description=(
            "`all`: every cell the AI owns, refilled even when up to date; `empty`: cells with "
            "no value yet; `stale`; `error`. Cells a person wrote are never included."
        ),
    )
    dry_run: bool = Field(default=False, description="Estimate tokens and cost; fill nothing")


class FillEstimate(BaseModel):
    dry_run: bool = True
    property_id: str
    scope: Scope
    rows: int = Field(description="Cells the run would fill")
    input_tokens: int = Field(description="Prompt tokens of every row's prompt")
    input_tokens_source: Literal["tiktoken", "estimate"] = Field(
        description="tiktoken: counted with the model's tokenizer; estimate: o200k × the "
        "model family's factor (models whose tokenizer tiktoken does not have)"
    )
    output_tokens: int = Field(description="Expected answer tokens (typical answers)")
    max_output_tokens: int = Field(description="Answer allowance: the most answers may use")
    cost_usd: float = Field(description="Expected cost")
    max_cost_usd: float = Field(description="Cost if every answer used its whole allowance")
    unfillable: int = Field(description="Rows whose prompt cannot be built (too large)")
    overridden: int = Field(description="Cells a person wrote: left out")


class RunOut(BaseModel):
    id: str
    property_id: str
    scope: Scope
    state: RunState
    total: int
    done: int
    failed: int
    skipped: int = Field(description="Settled without a model call (up to date, overridden)")
    remaining: int
    model_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    created_at: datetime
    finished_at: datetime | None
