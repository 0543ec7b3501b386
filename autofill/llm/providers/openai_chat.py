"""OpenAI Chat Completions through the official SDK: OpenAI itself, OpenAI-compatible servers
(vLLM, Ollama, llama.cpp) and the simulator.

Typed columns use structured outputs (``response_format`` json_schema, strict). The static prompt
prefix is simply sent first: OpenAI caches repeated prefixes by itself.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from autofill.llm.errors import ProviderError
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.replies import ChatReply, ChatUsage, read_reply
from autofill.llm.typed import answer_schema, is_structured
from autofill.llm.types import LLMRequest, RawAnswer, Usage


class OpenAIChatProvider:
    def __init__(self, client: openai.OpenAI, name: str = "openai") -> None:
        self.client = client
        self.name = name

    def call(self, request: LLMRequest, model: str, timeout: float) -> RawAnswer:
        arguments: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "max_completion_tokens": request.max_output_tokens,
            "timeout": timeout,
        }
        if is_structured(request.output):
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": answer_schema(request.output),
                    "strict": True,
                },
            }
        # The SDK walks `create`'s arguments against its typed-dict graph before sending: a
        # quarter of a worker's CPU per fill for messages and schemas we built as plain JSON
        # already (bench/backfill.py profile). Sent as extra_body they go out byte for byte
        # the same, unwalked; `messages=[]` is there for the signature, and is overridden.
        bulk = {
            key: arguments.pop(key) for key in ("messages", "response_format") if key in arguments
        }
        with sdk_errors(openai, self.name, timeout):
            raw = self.client.chat.completions.with_raw_response.create(
                **arguments, messages=[], extra_body=bulk
            )
            headers = {k.lower(): v for k, v in raw.headers.items()}
            body = raw.http_response.content
        completion = read_reply(ChatReply, body, self.name)

        if not completion.choices:
            raise ProviderError(f"{self.name} returned no choices", retryable=True)
        message = completion.choices[0].message
        usage = _usage(completion.usage)
        if message.refusal:
            return RawAnswer(text=message.refusal, data=None, usage=usage, headers=headers)
        text = message.content or ""
        data = None
        if is_structured(request.output):
            try:
                data = json.loads(text)
            except ValueError:
                data = None  # typed parsing explains what is wrong, and a re-ask follows
        return RawAnswer(text=text, data=data, usage=usage, headers=headers)


def _usage(usage: ChatUsage | None) -> Usage:
    if usage is None:
        return Usage()
    details = usage.prompt_tokens_details
    return Usage(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        cached_tokens=(details.cached_tokens if details else None) or 0,
    )
