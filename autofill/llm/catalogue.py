"""The model catalogue: what Autofill knows about each model, and where each fact comes from.

Per model (with a family's values as defaults): the context window and output limit, prices
(input, cached input, cache write, output, the batch discount), whether and how it reasons
(effort values, whether reasoning can be switched off), which sampling parameters it takes, how
it returns structured answers, which field carries the output limit, its minimum cacheable
prompt, its tokenizer (or the calibrated factor that estimates one), its lifecycle status, and
the sources and date those facts were read. The data lives in ``catalogue_data/*.json``; an
operator adds or corrects entries with ``AUTOFILL_MODEL_CATALOGUE=<file.json>``.

A model that is not in the catalogue is refused, never priced by a guess; a retired one is
refused with its replacement; a deprecated one works and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from autofill.config import get_settings
from autofill.kinds import ErrorCode

_DATA = Path(__file__).with_name("catalogue_data")
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")  # a dated snapshot of an alias

Provider = Literal["openai", "anthropic", "compat", "sim"]
Effort = str


class ModelRefused(Exception):
    """A column cannot use this model: unknown to the catalogue, or retired."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Provider
    family: str
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    tokenizer: Literal["o200k_base", "cl100k_base", "estimate"]
    token_factor: float = Field(
        default=1.0, gt=0, description="For 'estimate': o200k counts are multiplied by this"
    )
    input: float = Field(ge=0, description="USD per million input tokens")
    cached_input: float = Field(ge=0, description="USD per million input tokens read from cache")
    output: float = Field(ge=0, description="USD per million output tokens, reasoning included")
    cache_write: float | None = Field(default=None, ge=0, description="USD per million written")
    batch_discount: float | None = Field(default=None, ge=0, le=1)
    # Reasoning: "none" never reasons; "on_request" only when a request turns thinking on
    # (Autofill never does); "optional" reasons unless told not to (effort "none"); "always"
    # reasons whatever is sent. Reasoning tokens count against the output limit on both
    # providers (OpenAPI `max_completion_tokens`; the Anthropic SDK's `thinking` docstring).
    reasoning: Literal["none", "on_request", "optional", "always"] = "none"
    efforts: list[Effort] = Field(default_factory=list, description="Accepted, lowest first")
    default_effort: Effort | None = None
    effort_param: Literal["reasoning_effort", "output_config.effort"] | None = None
    temperature: Literal["always", "reasoning_off", "never"] = "always"
    structured_output: Literal["json_schema", "output_format", "tool", "prompt"] = "json_schema"
    forced_tool_use: bool = True
    prefill: bool = True  # Anthropic: may a request end with an assistant turn
    token_limit_param: Literal["max_completion_tokens", "max_tokens"] = "max_completion_tokens"
    min_cacheable_tokens: int | None = Field(default=None, gt=0)
    status: Literal["active", "deprecated"] = "active"
    released: date | None = None
    retires_on: date | None = None
    replacement: str | None = None
    sources: list[str] = Field(default_factory=list)
    checked: date | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelInfo:
        if self.effort_param and not self.efforts:
            raise ValueError("a model with an effort parameter needs its effort values")
        if (
            self.default_effort is not None
            and self.efforts
            and self.default_effort not in (self.efforts)
        ):
            raise ValueError(f"default_effort {self.default_effort!r} is not among efforts")
        if (
            self.reasoning == "optional"
            and self.effort_param == "reasoning_effort"
            and "none" not in self.efforts
        ):
            raise ValueError("reasoning 'optional' through reasoning_effort needs 'none'")
        return self

    @property
    def lowest_effort(self) -> Effort | None:
        """The effort Autofill sends: its tasks are short extraction and writing, and the
        lowest effort keeps cost and latency down (None: the model takes no effort)."""
        return self.efforts[0] if self.efforts and self.effort_param else None

    @property
    def reasons_at_lowest(self) -> bool:
        """Whether a call at the lowest effort still spends tokens on reasoning."""
        if self.reasoning in ("none", "on_request"):
            return False
        return not (self.reasoning == "optional" and self.lowest_effort == "none")

    @property
    def estimated_counts(self) -> bool:
        """Token counts are estimates (tiktoken does not have this model's tokenizer)."""
        return self.tokenizer == "estimate"

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

    @property
    def past_retirement(self) -> bool:
        """Its announced shutdown date has come: as gone as a model listed as retired."""
        return self.retires_on is not None and self.retires_on <= date.today()

    def warning(self, reference: str) -> str | None:
        """What a person choosing this model should be told, if anything."""
        if self.status != "deprecated":
            return None
        when = f" on {self.retires_on.isoformat()}" if self.retires_on else ""
        instead = f"; move to {self.replacement}" if self.replacement else ""
        return f"{reference} is deprecated and will stop working{when}{instead}"


class BatchLimits(BaseModel):
    """A provider's batch interface (economy fills): its per-batch limits, its window, and
    where each figure comes from (``"batch"`` in a catalogue file)."""

    model_config = ConfigDict(extra="forbid")

    max_requests: int = Field(gt=0)
    max_bytes: int = Field(gt=0)
    window_hours: float = Field(gt=0, description="A batch ends (expires) by then at the latest")
    typical_hours: float = Field(gt=0, description="What the provider says most batches take")
    results_retention_days: float = Field(gt=0)
    sources: list[str] = Field(default_factory=list)
    checked: date | None = None
    notes: str | None = None


class RetiredModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retired_on: date | None = None
    replacement: str


class Catalogue:
    def __init__(
        self,
        entries: dict[str, ModelInfo],
        retired: dict[str, RetiredModel],
        batch: dict[str, BatchLimits] | None = None,
    ) -> None:
        self.entries = entries
        self.retired = retired
        self.batch = batch or {}

    def batch_limits(self, provider: str) -> BatchLimits | None:
        """The provider's batch interface, or None where it has none (compat servers)."""
        return self.batch.get(provider)

    def get(self, reference: str) -> ModelInfo:
        """The model's entry, or ModelRefused saying why it cannot be used."""
        info = None
        for name in _candidates(reference):
            gone = self.retired.get(name)
            if gone is not None:
                when = f" on {gone.retired_on.isoformat()}" if gone.retired_on else ""
                raise ModelRefused(
                    f"{reference} was retired{when}: its provider no longer serves it; "
                    f"use {gone.replacement} instead",
                    ErrorCode.MODEL_RETIRED,
                )
            info = info or self.entries.get(name)
        info = info or self.entries.get(reference.split(":", 1)[0] + ":*")
        if info is None:
            raise ModelRefused(
                f"{reference!r} is not in the model catalogue, and Autofill does not guess a "
                "model's limits or prices: choose one that `autofill models` lists, or describe "
                "it in a file named by AUTOFILL_MODEL_CATALOGUE",
                ErrorCode.UNKNOWN_MODEL,
            )
        if info.past_retirement:
            # Past its announced shutdown: as gone as a model listed as retired.
            instead = f"; use {info.replacement} instead" if info.replacement else ""
            raise ModelRefused(
                f"{reference} was retired on {info.retires_on}: its provider no longer serves "
                f"it{instead}",
                ErrorCode.MODEL_RETIRED,
            )
        return info

    def __iter__(self) -> Iterator[tuple[str, ModelInfo | RetiredModel]]:
        yield from sorted(self.entries.items())
        yield from sorted(self.retired.items())


def _candidates(reference: str) -> list[str]:
    """The reference, then the alias of a dated snapshot (claude-haiku-4-5-20251001)."""
    undated = _DATED.sub("", reference)
    return [reference] if undated == reference else [reference, undated]


def _load_file(
    path: Path,
    base: dict[str, dict[str, Any]],
    families: dict[str, dict[str, Any]],
) -> tuple[dict[str, ModelInfo], dict[str, RetiredModel]]:
    """Entries of one file, each merged over its family (or, for an override, over what is
    already known of that name). A flat ``{"ref": {...}}`` file is a file of models."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    structured = "models" in raw or "families" in raw
    families.update(raw.get("families", {}) if structured else {})
    models = raw.get("models", {}) if structured else raw
    entries: dict[str, ModelInfo] = {}
    for key, value in models.items():
        if key.startswith("_"):
            continue
        if not isinstance(value, dict):
            raise ValueError(f"{path}: entry {key!r} is not an object")
        merged = _merged(key, value, base, families)
        try:
            entries[key] = ModelInfo.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(f"{path}: entry {key!r}: {exc}") from None
        base[key] = merged
    retired: dict[str, RetiredModel] = {}
    for key, value in (raw.get("retired", {}) if structured else {}).items():
        try:
            retired[key] = RetiredModel.model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"{path}: retired entry {key!r}: {exc}") from None
    return entries, retired


def _merged(
    key: str,
    value: dict[str, Any],
    base: dict[str, dict[str, Any]],
    families: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    provider = key.split(":", 1)[0]
    family_name = value.get("family") or base.get(key, {}).get("family")
    start: dict[str, Any] = {}
    if key in base:
        start = dict(base[key])  # an operator correcting a shipped entry
    elif family_name in families:
        start = {**families[family_name]}
    elif f"{provider}:*" in base:
        start = dict(base[f"{provider}:*"])
    merged = {"provider": provider, "family": family_name or provider, **start, **value}
    merged.pop("_comment", None)
    return merged


@lru_cache(maxsize=4)
def load_catalogue(override: str | None = None) -> Catalogue:
    base: dict[str, dict[str, Any]] = {}
    families: dict[str, dict[str, Any]] = {}
    entries: dict[str, ModelInfo] = {}
    retired: dict[str, RetiredModel] = {}
    batch: dict[str, BatchLimits] = {}
    paths = sorted(_DATA.glob("*.json"))
    if override:
        paths.append(Path(override))
    for path in paths:
        batch.update(_batch_limits(path))
        more, gone = _load_file(path, base, families)
        for key in more:
            retired.pop(key, None)  # an operator may bring a model back
        entries.update(more)
        retired.update(gone)
    return Catalogue(entries, retired, batch)


def _batch_limits(path: Path) -> dict[str, BatchLimits]:
    """A file's ``"batch"`` section, for the providers of the models it lists: OpenAI's and
    Anthropic's batch APIs; the simulator plays OpenAI's for ``sim:`` models."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or "batch" not in raw:
        return {}
    try:
        limits = BatchLimits.model_validate(raw["batch"])
    except ValidationError as exc:
        raise ValueError(f"{path}: batch: {exc}") from None
    providers = {key.split(":", 1)[0] for key in raw.get("models", {}) if ":" in key}
    providers |= {f.get("provider") for f in raw.get("families", {}).values() if f.get("provider")}
    providers.discard("compat")  # self-hosted servers have no batch interface
    return dict.fromkeys(providers, limits)


def catalogue() -> Catalogue:
    override = get_settings().model_catalogue
    return load_catalogue(str(override) if override else None)
