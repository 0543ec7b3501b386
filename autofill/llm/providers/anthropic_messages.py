"""Anthropic Messages through the official SDK.

System messages become the ``system`` blocks; the block or turn that ends the static prefix
(instructions and few-shot examples) carries ``cache_control`` so repeated fills read it from
Anthropic's prompt cache.

Typed columns ask for structured output the way the model takes it (the call plan, from the
catalogue): ``output_config.format`` (anthropic 2.10.0 ``types/output_config_param.py``) where
the model has structured outputs — the newest models refuse a forced tool
(platform.claude.com/docs/en/models/opus-5-5/overview) — and a forced tool call where a model
has only that. ``output_config.effort`` asks thinking models to think little.

Text blocks are never empty or whitespace: the API refuses both ("text content blocks must be
non-empty" / "must contain non-whitespace text", platform.claude.com/docs/en/api/errors). A blank
assistant turn is left out; Anthropic joins consecutive turns of one role (the SDK's ``messages``
docstring).

``stop_reason`` (anthropic 2.10.0 ``types/stop_reason.py``) says whether the text is an answer:
``max_tokens`` and ``model_context_window_exceeded`` cut it off, ``refusal`` is a refusal whose
``stop_details`` (``types/refusal_stop_details.py``) may explain it.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic

from autofill.llm.errors import ProviderError
from autofill.llm.plan import CallPlan
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.replies import MessagesReply, TextBlock, ToolUseBlock, read_reply
from autofill.llm.typed import answer_schema
from autofill.llm.types import ChatMessage, LLMRequest, RawAnswer, Stop, Usage

_CACHE = {"type": "ephemeral"}
TOOL = "record_answer"
_STOPS: dict[str | None, Stop] = {
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "refusal",
}


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.Anthropic) -> None:
        self.client = client

    def call(self, request: LLMRequest, model: str, plan: CallPlan, timeout: float) -> RawAnswer:
        arguments, bulk = _body(request, model, plan)
        # As for OpenAI (providers/openai_chat.py): the bulk goes as extra_body, byte for byte
        # the same on the wire, without the SDK's per-call walk over it.
        with sdk_errors(anthropic, self.name, timeout):
            raw = self.client.messages.with_raw_response.create(
                **arguments,
                max_tokens=plan.output_limit,
                timeout=timeout,
                messages=[],
                extra_body=bulk,
            )
            headers = {k.lower(): v for k, v in raw.headers.items()}
            body = raw.http_response.content
        return read_answer(
            read_reply(MessagesReply, body, self.name), plan.structured, headers, self.name
        )

    def count_tokens(self, request: LLMRequest, model: str, plan: CallPlan, timeout: float) -> int:
        """The request's input tokens as Anthropic counts them (``POST /v1/messages/count_tokens``,
        anthropic 2.10.0 ``resources/messages/messages.py`` ``count_tokens``): the same body as
        the call, less ``max_tokens``, which that endpoint does not take."""
        arguments, bulk = _body(request, model, plan)
        with sdk_errors(anthropic, self.name, timeout):
            counted = self.client.messages.count_tokens(
                **arguments, messages=[], extra_body=bulk, timeout=timeout
            )
        return int(counted.input_tokens)


def request_body(request: LLMRequest, model: str, plan: CallPlan) -> dict[str, Any]:
    """The Messages request's JSON body (a batch request's ``params`` is exactly that)."""
    arguments, bulk = _body(request, model, plan)
    return {**arguments, "max_tokens": plan.output_limit, **bulk}


def read_answer(
    reply: MessagesReply, structured: str | None, headers: dict[str, str], name: str
) -> RawAnswer:
    """A message as a raw answer: a live call's, or one succeeded result of a batch."""
    text_parts: list[str] = []
    data = None
    for part in reply.content:
        if isinstance(part, ToolUseBlock) and part.name == TOOL:
            data = part.input
        elif isinstance(part, TextBlock):
            text_parts.append(part.text)
    stop = _STOPS.get(reply.stop_reason, "end")
    text = "".join(text_parts) if data is None else _as_text(data)
    if data is None and structured == "output_format" and stop == "end":
        try:
            data = json.loads(text)
        except ValueError:
            data = None  # typed parsing says what is wrong, and a re-ask follows
    if data is None and not text_parts and stop == "end":
        raise ProviderError(f"{name} returned no content", retryable=True)
    usage = reply.usage
    read = usage.cache_read_input_tokens or 0
    write = usage.cache_creation_input_tokens or 0
    details = reply.stop_details
    return RawAnswer(
        text=text,
        data=data,
        usage=Usage(
            # Anthropic's input_tokens excludes cache reads and writes; ours counts them all.
            input_tokens=usage.input_tokens + read + write,
            output_tokens=usage.output_tokens,
            cached_tokens=read,
            cache_write_tokens=write,
        ),
        headers=headers,
        stop=stop,
        refusal=_refusal(details.category, details.explanation) if details else None,
        reasoning_tokens=(
            usage.output_tokens_details.thinking_tokens or 0 if usage.output_tokens_details else 0
        ),
    )


def _body(request: LLMRequest, model: str, plan: CallPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SDK's typed arguments, and the bulk sent as extra_body (see ``call``)."""
    system, messages = _blocks(request.messages)
    # No temperature: MessageCreateParams of anthropic 2.x has none.
    arguments: dict[str, Any] = {"model": model}
    bulk: dict[str, Any] = {"messages": messages}
    if system:
        bulk["system"] = system
    output_config: dict[str, Any] = {}
    if plan.effort is not None:
        output_config["effort"] = plan.effort
    if plan.structured == "output_format":
        output_config["format"] = {"type": "json_schema", "schema": answer_schema(request.output)}
    elif plan.structured == "tool":
        bulk["tools"] = [
            {
                "name": TOOL,
                "description": "Record the answer for this document.",
                "input_schema": answer_schema(request.output),
            }
        ]
        arguments["tool_choice"] = {"type": "tool", "name": TOOL}
    if output_config:
        bulk["output_config"] = output_config
    return arguments, bulk


def _blocks(chat: list[ChatMessage]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for message in chat:
        text = message.content
        if not text.strip():
            if message.role != "user":
                continue  # a blank system block or assistant turn says nothing: left out
            text = "(empty)"
        block: dict[str, Any] = {"type": "text", "text": text}
        if message.cache_boundary:
            block["cache_control"] = _CACHE
        if message.role == "system":
            system.append(block)
        else:
            messages.append({"role": message.role, "content": [block]})
    return system, messages


def _refusal(category: str | None, explanation: str | None) -> str | None:
    if not category and not explanation:
        return None
    return ": ".join(part for part in (category, explanation) if part)


def _as_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
