"""Talking to language models: the catalogue, tokenizers, providers, typed answers, retries and
rate limits, and a wire-level simulator for places with no provider (tests, demo, benchmarks).

What other packages use comes from here (the simulator and the providers show their own
faces); the modules behind it are this package's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    from autofill.llm.catalogue import BatchLimits, ModelInfo, ModelRefused, RetiredModel, catalogue
    from autofill.llm.complete import Completer
    from autofill.llm.counting import TokenSource, provider_count, source_of
    from autofill.llm.errors import FillFailed, InvalidAnswer, ProviderError
    from autofill.llm.plan import CallPlan, expected_reasoning, output_limit, plan_call
    from autofill.llm.providers.batches import BatchAPI, ItemResult
    from autofill.llm.providers.batches import BatchState as BatchView
    from autofill.llm.ratelimit import RateLimiter, parse_limits
    from autofill.llm.registry import Providers, Route, answers_notice, preload_sdks
    from autofill.llm.registry import current as current_providers
    from autofill.llm.schema_limits import strict_schema
    from autofill.llm.tokenizer import ENCODINGS, count_tokens, encoding
    from autofill.llm.typed import answer_schema, is_structured, parse_answer
    from autofill.llm.types import ChatMessage, Completion, LLMRequest, RawAnswer, Stop, Usage
    from autofill.llm.window import (
        encoding_name,
        margin,
        prompt_tokens,
        reask_room,
        reask_turns,
        room_for_output,
        scaled,
    )

__all__ = [
    "ENCODINGS",
    "BatchAPI",
    "BatchLimits",
    "BatchView",
    "CallPlan",
    "ChatMessage",
    "Completer",
    "Completion",
    "FillFailed",
    "InvalidAnswer",
    "ItemResult",
    "LLMRequest",
    "ModelInfo",
    "ModelRefused",
    "ProviderError",
    "Providers",
    "RateLimiter",
    "RawAnswer",
    "RetiredModel",
    "Route",
    "Stop",
    "TokenSource",
    "Usage",
    "answer_schema",
    "answers_notice",
    "catalogue",
    "count_tokens",
    "current_providers",
    "encoding",
    "encoding_name",
    "expected_reasoning",
    "is_structured",
    "margin",
    "output_limit",
    "parse_answer",
    "parse_limits",
    "plan_call",
    "preload_sdks",
    "prompt_tokens",
    "provider_count",
    "reask_room",
    "reask_turns",
    "room_for_output",
    "scaled",
    "source_of",
    "strict_schema",
]

__getattr__ = lazy_face(__name__, __file__)
