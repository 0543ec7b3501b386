"""The model catalogue: what budgeting and cost accounting know about each model.

Data lives in catalogue.json beside this file; ``AUTOFILL_MODEL_CATALOGUE`` names a JSON file
whose entries replace (or add to) the shipped ones.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autofill.errors import InvalidInput

_SHIPPED = Path(__file__).with_name("catalogue.json")
# Anthropic and most self-hosted models use tokenizers tiktoken does not have. o200k counts
# scaled by this factor over-estimate them on the texts we measured (English, European
# languages, CJK), which is the safe side for budgeting.
ESTIMATE_FACTOR = 1.25


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    tokenizer: Literal["o200k_base", "cl100k_base", "estimate"]
    input: float = Field(ge=0, description="USD per million input tokens")
    cached_input: float = Field(ge=0, description="USD per million input tokens read from cache")
    output: float = Field(ge=0, description="USD per million output tokens")
    cache_write: float | None = Field(default=None, ge=0, description="Anthropic cache writes")

    def cost(
        self, input_tokens: int, output_tokens: int, cached_tokens: int = 0, cache_write: int = 0
    ) -> float:
        """USD for one call. ``input_tokens`` counts every prompt token, cached ones included."""
        uncached = max(input_tokens - cached_tokens - cache_write, 0)
        write_price = self.cache_write if self.cache_write is not None else self.input
        total = (
            uncached * self.input
            + cached_tokens * self.cached_input
            + cache_write * write_price
            + output_tokens * self.output
        )
        return round(total / 1_000_000, 8)


class Catalogue:
    def __init__(self, entries: dict[str, ModelInfo]) -> None:
        self.entries = entries

    def get(self, model: str) -> ModelInfo:
        provider = model.split(":", 1)[0]
        info = self.entries.get(model) or self.entries.get(f"{provider}:*")
        if info is None:
            raise InvalidInput.field(
                "model",
                f"{model!r} is not in the model catalogue; add it with AUTOFILL_MODEL_CATALOGUE",
            )
        return info


def _load(path: Path) -> dict[str, ModelInfo]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    entries = {}
    for key, value in raw.items():
        if key.startswith("_"):
            continue
        try:
            entries[key] = ModelInfo.model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"{path}: entry {key!r}: {exc}") from None
    return entries


@lru_cache(maxsize=4)
def load_catalogue(override: str | None = None) -> Catalogue:
    entries = _load(_SHIPPED)
    if override:
        entries.update(_load(Path(override)))
    return Catalogue(entries)


def catalogue() -> Catalogue:
    return load_catalogue(os.environ.get("AUTOFILL_MODEL_CATALOGUE") or None)
