"""Anthropic Messages through the official SDK.

System messages become the ``system`` blocks; the block or turn that ends the static prefix
(instructions and few-shot examples) carries ``cache_control`` so repeated fills read it from
Anthropic's prompt cache. Typed columns use a forced tool call whose input schema is the answer.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic

from autofill.llm.errors import ProviderError
from autofill.llm.providers.base import sdk_errors
from autofill.llm.providers.replies import MessagesReply, TextBlock, ToolUseBlock, read_reply
from autofill.llm.typed import answer_schema, is_structured
from autofill.llm.types import LLMRequest, RawAnswer, Usage

_CACHE = {"type": "ephemeral"}
TOOL = "record_answer"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.Anthropic) -> None:
        self.client = client

    def call(self, request: LLMRequest, model: str, timeout: float) -> RawAnswer:
        system: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for message in request.messages:
            block: dict[str, Any] = {"type": "text", "text": message.content or " "}
            if message.cache_boundary:
                block["cache_control"] = _CACHE
            if message.role == "system":
                system.append(block)
            else:
                messages.append({"role": message.role, "content": [block]})
        arguments: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_output_tokens,
            # No temperature: the Messages API of anthropic 2.x no longer takes one.
            "messages": messages,
            "timeout": timeout,
        }
        if system:
            arguments["system"] = system
        if is_structured(request.output):
            arguments["tools"] = [
                {
                    "name": TOOL,
                    "description": "Record the answer for this document.",
                    "input_schema": answer_schema(request.output),
                }
            ]
            arguments["tool_choice"] = {"type": "tool", "name": TOOL}
        # As for OpenAI (providers/openai_chat.py): the bulk goes as extra_body, byte for byte
        # the same on the wire, without the SDK's per-call walk over it.
        bulk = {
            key: arguments.pop(key) for key in ("messages", "system", "tools") if key in arguments
        }
        with sdk_errors(anthropic, self.name, timeout):
            raw = self.client.messages.with_raw_response.create(
                **arguments, messages=[], extra_body=bulk
            )
            headers = {k.lower(): v for k, v in raw.headers.items()}
            body = raw.http_response.content
        reply = read_reply(MessagesReply, body, self.name)

        text_parts: list[str] = []
        data = None
        for part in reply.content:
            if isinstance(part, ToolUseBlock) and part.name == TOOL:
                data = part.input
            elif isinstance(part, TextBlock):
                text_parts.append(part.text)
        if data is None and not text_parts:
            raise ProviderError(f"{self.name} returned no content", retryable=True)
        usage = reply.usage
        read = usage.cache_read_input_tokens or 0
        write = usage.cache_creation_input_tokens or 0
        return RawAnswer(
            text="".join(text_parts) if data is None else _as_text(data),
            data=data,
            usage=Usage(
                # Anthropic's input_tokens excludes cache reads and writes; ours counts them all.
                input_tokens=usage.input_tokens + read + write,
                output_tokens=usage.output_tokens,
                cached_tokens=read,
                cache_write_tokens=write,
            ),
            headers=headers,
        )


def _as_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
