"""OpenAI Chat Completions and Anthropic Messages, as the official SDKs send and expect them.

Token counts come from tiktoken (o200k_base). Prompt caching is simulated the way the providers
describe it: OpenAI caches a repeated prefix of 1,024 tokens or more in 128-token steps;
Anthropic caches up to the last ``cache_control`` mark, reporting writes then reads.
"""

from __future__ import annotations

import json
from typing import Any

from autofill.llm.simulator.answers import (
    INVALID,
    find_document,
    mimic_prose,
    obeyed,
    prose,
    value_for,
)
from autofill.llm.tokenizer import count_tokens

MIN_CACHEABLE = 1024
PER_MESSAGE = 4  # framing tokens each chat message costs


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text":
                    parts.append(str(block.get("text", "")))
                elif block.get("type") == "tool_result":
                    parts.append(_text(block.get("content", "")))
                elif block.get("type") == "tool_use":
                    parts.append(json.dumps(block.get("input"), ensure_ascii=False))
        return "\n".join(parts)
    return ""


def _tokens(texts: list[str]) -> int:
    return sum(count_tokens(text) + PER_MESSAGE for text in texts)


class PrefixCache:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def hit(self, key: str) -> bool:
        found = key in self.seen
        self.seen.add(key)
        return found


def _invalid_for(schema: dict[str, Any]) -> Any:
    inner = schema.get("properties", {}).get("value", schema)
    kinds = [s.get("type") for s in inner.get("anyOf", [inner])]
    kind = next((k for k in kinds if k and k != "null"), "string")
    if isinstance(kind, list):
        kind = kind[0]
    return {"value": INVALID.get(kind, "Maybe")} if "properties" in schema else INVALID.get(kind)


def openai_answer(body: dict[str, Any], cache: PrefixCache, invalid: bool) -> dict[str, Any]:
    messages = body.get("messages") or []
    texts = [_text(m.get("content")) for m in messages]
    system = "\n".join(
        t for m, t in zip(messages, texts, strict=True) if m.get("role") in ("system", "developer")
    )
    user = next(
        (
            t
            for m, t in zip(reversed(messages), reversed(texts), strict=True)
            if m.get("role") == "user"
        ),
        "",
    )
    document = find_document(user)

    response_format = body.get("response_format") or {}
    # A hijacked model keeps obeying the page through re-asks: every user turn is read.
    conversation = "\n".join(
        t for m, t in zip(messages, texts, strict=True) if m.get("role") == "user"
    )
    order = obeyed(conversation) if "obey" in str(body.get("model", "")) else None
    if order is not None:
        content = order
    elif response_format.get("type") == "json_schema":
        schema = response_format["json_schema"]["schema"]
        value = (
            _invalid_for(schema)
            if invalid
            else value_for(schema, document, system, schema.get("$defs", {}))
        )
        content = json.dumps(value, ensure_ascii=False)
    elif "mimic" in str(body.get("model", "")):
        examples = [
            t for m, t in zip(messages[:-1], texts[:-1], strict=True) if m.get("role") == "user"
        ]
        content = "Maybe" if invalid else mimic_prose(system, document, examples)
    else:
        content = "Maybe" if invalid else prose(system, document)

    prompt_tokens = _tokens(texts)
    prefix_tokens = _tokens(texts[:-1])
    cached = 0
    if prefix_tokens >= MIN_CACHEABLE and cache.hit(json.dumps(messages[:-1], sort_keys=True)):
        cached = prefix_tokens // 128 * 128
    completion = count_tokens(content)
    return {
        "object": "chat.completion",
        "model": body.get("model", "sim"),
        "system_fingerprint": "sim",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }


def anthropic_answer(body: dict[str, Any], cache: PrefixCache, invalid: bool) -> dict[str, Any]:
    system_blocks = body.get("system") or []
    if isinstance(system_blocks, str):
        system_blocks = [{"type": "text", "text": system_blocks}]
    messages = body.get("messages") or []
    # Everything in prompt order, each with whether a cache breakpoint follows it.
    pieces: list[tuple[str, bool]] = [(_text([b]), "cache_control" in b) for b in system_blocks]
    for message in messages:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for block in blocks:
            pieces.append((_text([block]), isinstance(block, dict) and "cache_control" in block))
    system = "\n".join(_text([b]) for b in system_blocks)
    user = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    document = find_document(user)

    tools = body.get("tools") or []
    choice = body.get("tool_choice") or {}
    tool = next(
        (t for t in tools if t.get("name") == choice.get("name")), tools[0] if tools else None
    )
    if tool is not None:
        schema = tool.get("input_schema", {})
        value = (
            _invalid_for(schema)
            if invalid
            else value_for(schema, document, system, schema.get("$defs", {}))
        )
        content = [{"type": "tool_use", "id": "toolu_sim", "name": tool["name"], "input": value}]
        stop_reason, out_text = "tool_use", json.dumps(value, ensure_ascii=False)
    else:
        out_text = "Maybe" if invalid else prose(system, document)
        content, stop_reason = [{"type": "text", "text": out_text}], "end_turn"

    total = _tokens([text for text, _ in pieces])
    marks = [index for index, (_, marked) in enumerate(pieces) if marked]
    read = write = 0
    if marks:
        prefix = pieces[: marks[-1] + 1]
        prefix_tokens = _tokens([text for text, _ in prefix])
        if prefix_tokens >= MIN_CACHEABLE:
            if cache.hit(json.dumps(prefix)):
                read = prefix_tokens
            else:
                write = prefix_tokens
    return {
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "sim"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": total - read - write,
            "output_tokens": count_tokens(out_text),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        },
    }


def openai_error(status: int, message: str) -> dict[str, Any]:
    kind = {429: "rate_limit_exceeded", 400: "invalid_request_error", 401: "invalid_api_key"}
    return {
        "error": {
            "message": message,
            "type": kind.get(status, "server_error"),
            "param": None,
            "code": kind.get(status, "server_error"),
        }
    }


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = {
        429: "rate_limit_error",
        529: "overloaded_error",
        400: "invalid_request_error",
        401: "authentication_error",
        503: "api_error",
    }
    return {"type": "error", "error": {"type": kind.get(status, "api_error"), "message": message}}
