"""What goes into a model call and what comes out, whatever the provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from autofill.outputs import OutputSpec


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str
    # True on the last message of the static part (instructions + few-shot examples): providers
    # that cache prompt prefixes are told to cache up to here.
    cache_boundary: bool = False


@dataclass(frozen=True)
class LLMRequest:
    model: str  # a model reference, e.g. "openai:gpt-4.1-mini"
    messages: list[ChatMessage]
    output: OutputSpec = field(default_factory=OutputSpec)
    max_output_tokens: int = 1024
    temperature: float = 0.0
    # Who waits for it (autofill.kinds.Lane): bulk calls leave a share of each provider limit
    # to interactive ones (autofill.llm.ratelimit).
    lane: str = "interactive"


@dataclass
class Usage:
    input_tokens: int = 0  # every prompt token, cached ones included
    output_tokens: int = 0
    cached_tokens: int = 0  # read from the provider's prompt cache
    cache_write_tokens: int = 0  # written to it (Anthropic bills these apart)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


Stop = Literal["end", "length", "refusal", "content_filter"]


@dataclass(frozen=True)
class RawAnswer:
    """One provider response: prose in ``text``, or the structured answer in ``data``.

    ``stop`` is why the model stopped, in the providers' common terms: ``end`` (a natural end,
    a tool call), ``length`` (the output limit or the context window ran out: the answer is cut
    off), ``refusal`` (``refusal`` says what the model or the provider said), ``content_filter``.
    """

    text: str
    data: Any
    usage: Usage
    headers: dict[str, str]
    stop: Stop = "end"
    refusal: str | None = None
    reasoning_tokens: int = 0  # of usage.output_tokens, spent reasoning


@dataclass(frozen=True)
class Completion:
    value: Any  # validated for the output type; None when the model said no option fits
    text: str  # the model's last answer as sent
    usage: Usage
    cost_usd: float
    latency_s: float
    attempts: int  # answers asked for (1 + re-asks)
    calls: int  # HTTP calls made (retries included)
    model: str
    none_reason: str | None = None
