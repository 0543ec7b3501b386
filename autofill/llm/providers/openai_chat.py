"""OpenAI Chat Completions through the official SDK: OpenAI itself, OpenAI-compatible servers
(vLLM, Ollama, llama.cpp) and the simulator.

What is sent follows the call plan (autofill.llm.plan): a temperature only where the model takes
one, ``reasoning_effort`` only where the model reasons, the output limit in the field the server
honours. Typed columns use structured outputs (``response_format`` json_schema, strict) within
the strict mode's size limits. The static prompt prefix is simply sent first: OpenAI caches
repeated prefixes by itself.

Every answer says why it stopped (``finish_reason``, OpenAPI ``CreateChatCompletionResponse``):
``length`` and ``content_filter`` are not answers, and ``message.refusal`` is a refusal.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from autofill.llm.errors import ProviderError
from autofill.llm.plan import CallPlan
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.replies import ChatReply, ChatUsage, read_reply
from autofill.llm.schema_limits import strict_schema
from autofill.llm.typed import answer_schema
from autofill.llm.types import LLMRequest, RawAnswer, Stop, Usage

_STOPS: dict[str | None, Stop] = {"length": "length", "content_filter": "content_filter"}


class OpenAIChatProvider:
    def __init__(self, client: openai.OpenAI, name: str = "openai") -> None:
        self.client = client
        self.name = name

    def call(self, request: LLMRequest, model: str, plan: CallPlan, timeout: float) -> RawAnswer:
        # The SDK walks `create`'s arguments against its typed-dict graph before sending: a
        # quarter of a worker's CPU per fill for messages and schemas we built as plain JSON
        # already (bench/backfill.py profile). Sent as extra_body they go out byte for byte
        # the same, unwalked. The model too: its annotation is a union with a Literal of every
        # OpenAI model name, which the walk hashes (91 values) at each call: the walk took
        # 0.114 ms per call with the model given, 0.007 without (3,000 calls, 2026-12-04), a
        # tenth of the SDK's client CPU for a call. `model` and `messages` are named for the
        # SDK's required-arguments check, as `omit`, which its walk leaves out of the body
        # (openai/_utils/_transform.py), so the body is exactly `request_body`. The output
        # limit goes the same way: a compat server may want `max_tokens`, which the SDK
        # marks deprecated.
        sent = request_body(request, model, plan)
        unwalked: dict[str, Any] = {"model": openai.omit, "messages": openai.omit}
        with sdk_errors(openai, self.name, timeout):
            raw = self.client.chat.completions.with_raw_response.create(
                **unwalked, timeout=timeout, extra_body=sent
            )
            headers = {k.lower(): v for k, v in raw.headers.items()}
            body = raw.http_response.content
        return read_answer(
            read_reply(ChatReply, body, self.name), plan.structured, headers, self.name
        )


def request_body(request: LLMRequest, model: str, plan: CallPlan) -> dict[str, Any]:
    """The request's JSON body: what a live call sends (all of it as extra_body) and a batch
    line's ``body``."""
    body: dict[str, Any] = {"model": model}
    if plan.temperature is not None:
        body["temperature"] = plan.temperature
    if plan.effort is not None:
        body["reasoning_effort"] = plan.effort
    body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
    for field in plan.token_fields:
        body[field] = plan.output_limit
    if plan.structured == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": strict_schema(answer_schema(request.output)),
                "strict": True,
            },
        }
    return body


def read_answer(
    completion: ChatReply, structured: str | None, headers: dict[str, str], name: str
) -> RawAnswer:
    """A chat completion as a raw answer: a live call's, or one line of a batch's results."""
    if not completion.choices:
        raise ProviderError(f"{name} returned no choices", retryable=True)
    choice = completion.choices[0]
    message = choice.message
    usage, reasoning = _usage(completion.usage)
    if message.refusal:
        return RawAnswer(
            text="",
            data=None,
            usage=usage,
            headers=headers,
            stop="refusal",
            refusal=message.refusal,
            reasoning_tokens=reasoning,
        )
    text = message.content or ""
    data = None
    if structured is not None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None  # typed parsing explains what is wrong, and a re-ask follows
    return RawAnswer(
        text=text,
        data=data,
        usage=usage,
        headers=headers,
        stop=_STOPS.get(choice.finish_reason, "end"),
        reasoning_tokens=reasoning,
    )


def _usage(usage: ChatUsage | None) -> tuple[Usage, int]:
    if usage is None:
        return Usage(), 0
    details = usage.prompt_tokens_details
    out = usage.completion_tokens_details
    return (
        Usage(
            input_tokens=usage.prompt_tokens or 0,
            output_tokens=usage.completion_tokens or 0,
            cached_tokens=(details.cached_tokens if details else None) or 0,
        ),
        (out.reasoning_tokens if out else None) or 0,
    )
