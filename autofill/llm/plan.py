"""What one model call sends, decided from the model's catalogue entry and nothing else.

The providers' adapters turn a ``CallPlan`` into their wire fields; they never decide on their own
whether a model takes a temperature, a reasoning effort or which field carries the output limit.

Output limits: ``LLMRequest.max_output_tokens`` is the room for the *answer*. A model that
reasons at the effort we send spends output tokens on reasoning first (OpenAPI
``max_completion_tokens``: "including visible output tokens and reasoning tokens"; Anthropic's
``thinking``: "Thinking tokens count toward your max_tokens limit"), so the limit sent adds room
for it. When a model still stops at the limit, one more call with a larger limit is made
(``enlarged``) if the model allows one; after that the answer is reported as cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from autofill.llm.catalogue import ModelInfo

# Room left for reasoning at each effort, on top of the answer. Autofill's own choice (no provider
# publishes a figure): generous at the low efforts it sends, so short answers are not starved.
REASONING_ROOM = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
    "max": 32768,
}
ENLARGE_FACTOR = 4
TokenField = Literal["max_completion_tokens", "max_tokens"]


@dataclass(frozen=True)
class CallPlan:
    output_limit: int  # sent as the output limit: the answer plus room for reasoning
    effort: str | None  # sent as the reasoning effort; None: not sent
    temperature: float | None  # None: not sent (the model takes only its default)
    token_fields: tuple[TokenField, ...]  # which field(s) carry output_limit
    # How a typed answer is asked for (None: prose): strict json_schema (OpenAI), Anthropic's
    # output_config.format, a forced tool call, or only the prompt's instructions.
    structured: Literal["json_schema", "output_format", "tool", "prompt"] | None = None


def output_limit(info: ModelInfo, answer_tokens: int) -> int:
    """The output limit for an answer of ``answer_tokens``: within the model's maximum, with
    room for the reasoning it does at the effort Autofill sends."""
    room = REASONING_ROOM.get(info.lowest_effort or "low", 2048) if info.reasons_at_lowest else 0
    return max(min(answer_tokens + room, info.max_output_tokens), 1)


def expected_reasoning(info: ModelInfo) -> int:
    """Reasoning tokens a typical short answer costs at the effort sent, for estimates (not
    limits): a quarter of the room kept for it, Autofill's assumption until usage says more."""
    if not info.reasons_at_lowest:
        return 0
    return REASONING_ROOM.get(info.lowest_effort or "low", 2048) // 4


def enlarged(info: ModelInfo, limit: int) -> int | None:
    """A larger limit for one more try after the model stopped at ``limit``; None if the model
    allows no more."""
    if limit >= info.max_output_tokens:
        return None
    return min(limit * ENLARGE_FACTOR, info.max_output_tokens)


def plan_call(
    info: ModelInfo,
    answer_tokens: int,
    temperature: float,
    *,
    typed: bool,
    limit: int | None = None,
    token_fields: tuple[TokenField, ...] | None = None,
) -> CallPlan:
    effort = info.lowest_effort
    reasoning_off = info.reasoning in ("none", "on_request") or effort == "none"
    takes_temperature = info.temperature == "always" or (
        info.temperature == "reasoning_off" and reasoning_off
    )
    return CallPlan(
        output_limit=limit if limit is not None else output_limit(info, answer_tokens),
        effort=effort,
        temperature=temperature if takes_temperature else None,
        token_fields=token_fields or (info.token_limit_param,),
        structured=info.structured_output if typed else None,
    )
