"""Prompt previews: the exact request a fill would send, without calling the model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from autofill.schemas.common import StrictModel
from autofill.schemas.rows import RowCreate


class PreviewRequest(StrictModel):
    row_id: str | None = Field(default=None, description="A row of the column's database")
    row: RowCreate | None = Field(default=None, description="Or row data given inline")

    @model_validator(mode="after")
    def _one_source(self) -> PreviewRequest:
        if (self.row_id is None) == (self.row is None):
            raise ValueError("give exactly one of row_id or row")
        return self


class PreviewMessage(BaseModel):
    role: str
    content: str
    cache_boundary: bool = Field(description="The static, cacheable prefix ends here")


class PreviewOut(BaseModel):
    model: str
    prompt_version: str
    language: str | None = Field(
        description="The page's language as the request names it (ISO 639-1); null when "
        "detection was unsure and the request asks for the page's own language"
    )
    examples: list[str] = Field(description="Few-shot examples used, in order")
    messages: list[PreviewMessage]
    input_tokens: int
    input_tokens_source: Literal["tiktoken", "count_tokens", "estimate"] = Field(
        description="How input_tokens was counted: the model's tokenizer (tiktoken), the "
        "provider's count_tokens endpoint, or an estimate (o200k × the model family's factor)"
    )
    budget: int = Field(description="Input tokens allowed: window − answer room − margin, capped")
    reserved_output_tokens: int
    truncated: bool = Field(description="The page or a property value was cut to fit")
    cut_chars: int = Field(description="Characters of the page left out")
    cut_properties: list[str] = Field(
        default_factory=list, description="Properties whose values were cut to 4,000 characters"
    )
    estimated_cost_usd: float = Field(description="With a typical answer length")
    max_cost_usd: float = Field(description="If the answer used all its reserved tokens")
