"""Bulk fills, single-cell fills and their progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from autofill.kinds import FillMode, RunState, Scope
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
    mode: FillMode = Field(
        default=FillMode.NOW,
        description=(
            "`now`: live calls, cells fill within minutes; `economy`: through the provider's "
            "batch interface (OpenAI Batch API, Anthropic Message Batches) at its batch price "
            "(half, for both), done within the provider's window (24 hours at most; most "
            "Anthropic batches within an hour). A row edited meanwhile is filled live."
        ),
    )


class EconomyEstimateOut(BaseModel):
    cost_usd: float = Field(description="Expected cost at the batch price, with the cached share")
    max_cost_usd: float
    cost_without_cache_usd: float = Field(
        description="Should no request read the prompt cache (batch cache hits are best effort)"
    )
    discount: float = Field(description="Off the list price, e.g. 0.5")
    cached_share: float = Field(description="Share of prompt tokens read from the prompt cache")
    window_hours: float = Field(description="Every batch ends by then (expired past it)")
    typical_hours: float = Field(description="What the provider says most batches take")
    expected_by: datetime
    latest_by: datetime


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
    economy: EconomyEstimateOut | None = Field(
        default=None, description="The same run in economy mode (null: the model has no batch API)"
    )
    economy_unavailable: str | None = Field(
        default=None, description="Why economy mode cannot be used for this column's model"
    )


class BatchProgressOut(BaseModel):
    batches: int
    preparing: int = Field(description="Cells in batches not yet sent")
    submitted: int = Field(description="Cells sent to the provider")
    in_provider_queue: int = Field(description="Of those, not answered by the provider yet")
    provider_succeeded: int
    provider_failed: int = Field(description="Errored, expired or cancelled at the provider")
    failed_batches: int = Field(description="Batches the provider refused (cells went live)")


class RunOut(BaseModel):
    id: str
    property_id: str
    scope: Scope
    mode: FillMode
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
    batch: BatchProgressOut | None = Field(
        default=None, description="Economy runs: their provider batches' progress"
    )
