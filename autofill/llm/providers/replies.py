"""The parts of a provider's answer we read, validated at the edge.

The SDKs build their response objects without validation (for speed), so a body of the wrong
shape (an HTML error page from a proxy, an empty body, a half-compatible server's JSON) would
surface later as an AttributeError deep in a worker. The body is checked here instead, against
models holding only the fields we use, lax about everything else: a self-hosted server's extra
fields or unusual ``finish_reason`` must not fail a fill. A body that does not fit is a
``ProviderError`` (retryable: the next answer may be fine) naming what was wrong.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from autofill.llm.errors import ProviderError


class LaxModel(BaseModel):
    """A provider's object as far as we read it: fields we do not use are ignored."""

    model_config = ConfigDict(extra="ignore")


class ChatUsageDetails(LaxModel):
    cached_tokens: int | None = None


class ChatCompletionDetails(LaxModel):
    reasoning_tokens: int | None = None


class ChatUsage(LaxModel):
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    prompt_tokens_details: ChatUsageDetails | None = None
    completion_tokens_details: ChatCompletionDetails | None = None


class ChatMessageOut(LaxModel):
    content: str | None = None
    refusal: str | None = None


class ChatChoice(LaxModel):
    message: ChatMessageOut
    # A plain string: a self-hosted server may send a reason of its own (or none at all).
    finish_reason: str | None = None


class ChatReply(LaxModel):
    choices: list[ChatChoice]
    usage: ChatUsage | None = None


class TextBlock(LaxModel):
    type: Literal["text"]
    text: str


class ToolUseBlock(LaxModel):
    type: Literal["tool_use"]
    name: str
    input: Any = None


class OtherBlock(LaxModel):
    type: str  # thinking, server tools…: not ours to read


class OutputDetails(LaxModel):
    thinking_tokens: int | None = None


class MessagesUsage(LaxModel):
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    output_tokens_details: OutputDetails | None = None


class StopDetails(LaxModel):
    category: str | None = None
    explanation: str | None = None


class MessagesReply(LaxModel):
    content: list[TextBlock | ToolUseBlock | OtherBlock]
    usage: MessagesUsage
    stop_reason: str | None = None
    stop_details: StopDetails | None = None


Reply = TypeVar("Reply", ChatReply, MessagesReply)


def read_reply(model: type[Reply], body: bytes, provider: str) -> Reply:
    try:
        return model.model_validate(json.loads(body))
    except ValueError as exc:  # not JSON at all (ValidationError is a ValueError too)
        raise ProviderError(
            f"{provider} sent a malformed response: {_describe(exc, body)}", retryable=True
        ) from None


def _describe(exc: ValueError, body: bytes) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return f"{where}: {first['msg']}"
    if not body.strip():
        return "empty body"
    return f"not JSON ({body[:60].decode('utf-8', 'replace')!r}…)"
