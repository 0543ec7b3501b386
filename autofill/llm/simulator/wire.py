"""Successful answers, as OpenAI Chat Completions and Anthropic Messages send them.

Shapes: OpenAPI ``CreateChatCompletionResponse`` (openai/openai-openapi openapi.json 2.3.0) and
anthropic 2.10.0 ``types/message.py``; tests/contract validates every body built here against
the SDKs' response models in strict mode.

What the answer is made of:
- reasoning first: a reasoning model spends tokens on it at the effort it runs at, and they
  count against the output limit (OpenAPI ``max_completion_tokens``; Anthropic ``thinking``:
  "Thinking tokens count toward your max_tokens limit"). Reasoning that uses the whole limit
  leaves an empty answer, stopped at ``length`` / ``max_tokens``;
- then the answer (answers.py), cut at the limit when it does not fit;
- refusals (OpenAI ``message.refusal``; Anthropic ``stop_reason: refusal`` with
  ``stop_details``, types/refusal_stop_details.py) and content filtering
  (``finish_reason: content_filter``) when a fault asks for them.

Token counts come from tiktoken (o200k_base). Prompt caching as the providers describe it:
OpenAI caches a repeated prefix of 1,024 tokens or more in 128-token steps
(platform.openai.com/docs/guides/prompt-caching); Anthropic caches up to the last
``cache_control`` mark once the prefix reaches the model's minimum (catalogue
``min_cacheable_tokens``; 1,024 where the model's figure is unknown), reporting writes then
reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from autofill.llm.simulator.answers import (
    INVALID,
    MARK,
    escaped,
    find_document,
    listed_options,
    mimic_prose,
    obeyed,
    prose,
    value_for,
)
from autofill.llm.simulator.config import Fault, SimConfig
from autofill.llm.simulator.personas import Persona
from autofill.llm.simulator.rules import (
    anthropic_effort,
    openai_effort,
    openai_limit,
    prompt_tokens,
)
from autofill.llm.tokenizer import count_tokens, encoding

OPENAI_CACHE_STEP = 128
DEFAULT_MIN_CACHEABLE = 1024
REFUSAL = "I'm sorry, but I can't help with that request."


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text":
                    parts.append(str(block.get("text", "")))
                elif block.get("type") == "tool_result":
                    parts.append(text_of(block.get("content", "")))
                elif block.get("type") == "tool_use":
                    parts.append(json.dumps(block.get("input"), ensure_ascii=False))
        return "\n".join(parts)
    return ""


def request_texts(protocol: str, body: dict[str, Any]) -> list[str]:
    """The texts of a request's turns (Anthropic's system blocks first), for counting."""
    messages = body.get("messages")
    listed = messages if isinstance(messages, list) else []
    texts = [text_of(m.get("content")) for m in listed if isinstance(m, dict)]
    if protocol == "anthropic":
        system = body.get("system")
        texts = [
            text_of(
                system if isinstance(system, list) else [{"type": "text", "text": system or ""}]
            ),
            *texts,
        ]
    return texts


class PrefixCache:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def hit(self, key: str) -> bool:
        found = key in self.seen
        self.seen.add(key)
        return found


@dataclass(frozen=True)
class Shaped:
    content: str
    answer_tokens: int
    reasoning_tokens: int
    cut: bool  # stopped at the output limit


def shape(
    content: str, reasoning: int, limit: int | None, fault: Fault, config: SimConfig
) -> Shaped:
    """The answer as it leaves the model: reasoning first, then as much answer as fits."""
    if fault == Fault.BLANK:
        content = "\n"
    if fault == Fault.LONG:
        content = _long(content, config.long_answer_tokens)
    tokens = encoding("o200k_base").encode(content, disallowed_special=())
    cut = False
    if fault == Fault.LENGTH:
        tokens, cut = tokens[: max(len(tokens) // 2, 1)], True
    if limit is not None:
        reasoning = min(reasoning, limit)
        room = limit - reasoning
        if len(tokens) > room:
            tokens, cut = tokens[:room], True
    text = encoding("o200k_base").decode(tokens) if cut else content
    return Shaped(text, len(tokens), reasoning, cut)


def _long(content: str, tokens: int) -> str:
    filler = f" {MARK} More of the same answer."
    repeat = max(tokens // max(count_tokens(filler), 1), 1)
    return content + filler * repeat


def schema_tokens(body: dict[str, Any]) -> int:
    """Tool definitions and output schemas are input too: both providers bill them."""
    parts: list[Any] = list(body.get("tools") or [])
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        parts.append(response_format.get("json_schema", {}).get("schema"))
    output_format = (body.get("output_config") or {}).get("format")
    if output_format is not None:
        parts.append(output_format.get("schema"))
    return sum(count_tokens(json.dumps(part, ensure_ascii=False)) for part in parts)


def anthropic_input_tokens(body: dict[str, Any]) -> int:
    """What a Messages request's input costs: every system and message block, and the schemas
    (the same figure ``POST /v1/messages/count_tokens`` answers)."""
    return prompt_tokens([text for text, _ in _pieces(body)]) + schema_tokens(body)


def _pieces(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """Everything of a Messages request in prompt order, each with whether a cache breakpoint
    follows it."""
    system_blocks = body.get("system") or []
    if isinstance(system_blocks, str):
        system_blocks = [{"type": "text", "text": system_blocks}]
    pieces: list[tuple[str, bool]] = [(text_of([b]), "cache_control" in b) for b in system_blocks]
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for block in blocks:
            pieces.append((text_of([block]), isinstance(block, dict) and "cache_control" in block))
    return pieces


def _row_turn(users: list[str]) -> str:
    """The user turn that asks about the row: the last with a document (few-shot examples come
    before it; a re-ask after it carries none)."""
    return next((turn for turn in reversed(users) if "<document" in turn), "")


def _invalid_for(schema: dict[str, Any]) -> Any:
    inner = schema.get("properties", {}).get("value", schema)
    kinds = [s.get("type") for s in inner.get("anyOf", [inner])]
    kind = next((k for k in kinds if k and k != "null"), "string")
    if isinstance(kind, list):
        kind = kind[0]
    return {"value": INVALID.get(kind, "Maybe")} if "properties" in schema else INVALID.get(kind)


def _typed(
    schema: dict[str, Any], document: str, system: str, invalid: bool, turn: str = ""
) -> Any:
    if invalid:
        return _invalid_for(schema)
    return value_for(schema, document, system, schema.get("$defs", {}), listed_options(turn))


def openai_answer(
    body: dict[str, Any], persona: Persona, cache: PrefixCache, fault: Fault, config: SimConfig
) -> dict[str, Any]:
    messages = body.get("messages") or []
    texts = [text_of(m.get("content")) for m in messages]
    roles = [m.get("role") for m in messages]
    system = "\n".join(t for r, t in zip(roles, texts, strict=True) if r in ("system", "developer"))
    users = [t for r, t in zip(roles, texts, strict=True) if r == "user"]
    # The row's data is in the last <document> of the conversation (re-asks carry none).
    document = find_document("\n".join(users))
    invalid = fault == Fault.INVALID
    model = str(body.get("model", ""))

    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    finish = "stop"
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    response_format = body.get("response_format") or {}
    # A hijacked model keeps obeying the page through re-asks: every user turn is read.
    order = obeyed("\n".join(users)) if "obey" in model else None
    if "lenient" in model:  # follows what reached it outside the document, as it reads it
        order = escaped(_row_turn(users))
    call = None
    if order is not None:
        content = order
    elif tools and choice != "none":
        # A function the request forces (or, under "auto"/"required", the first): called with
        # arguments that fit its parameters, finish_reason "tool_calls" (OpenAPI
        # ChatCompletionToolChoiceOption).
        wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        tool = next((t for t in tools if t.get("function", {}).get("name") == wanted), tools[0])
        function = tool.get("function", {})
        arguments = _typed(function.get("parameters") or {}, document, system, invalid)
        content = json.dumps(arguments, ensure_ascii=False)
        call = {
            "id": "call_sim",
            "type": "function",
            "function": {"name": function.get("name"), "arguments": content},
        }
    elif response_format.get("type") == "json_schema":
        schema = response_format["json_schema"].get("schema") or {}
        content = json.dumps(
            _typed(schema, document, system, invalid, _row_turn(users)), ensure_ascii=False
        )
    elif "mimic" in model:
        examples = [t for r, t in zip(roles[:-1], texts[:-1], strict=True) if r == "user"]
        content = "Maybe" if invalid else mimic_prose(system, document, examples, _row_turn(users))
    else:
        content = "Maybe" if invalid else prose(system, document)

    effort = openai_effort(body, persona)
    reasoning = config.reasoning_tokens.get(effort, 0) if effort else 0
    if fault == Fault.REFUSAL:
        shaped = Shaped("", count_tokens(REFUSAL), reasoning, False)
        message["refusal"] = REFUSAL
    else:
        shaped = shape(content, reasoning, openai_limit(body, persona), fault, config)
        if fault == Fault.CONTENT_FILTER:
            message["content"], finish = "", "content_filter"
        elif call is not None and not shaped.cut:
            message["tool_calls"], finish = [call], "tool_calls"
        else:
            message["content"] = shaped.content
            finish = "length" if shaped.cut else "stop"

    prompt = prompt_tokens(texts) + schema_tokens(body)
    prefix = prompt_tokens(texts[:-1])
    minimum = (persona.info.min_cacheable_tokens if persona.info else None) or DEFAULT_MIN_CACHEABLE
    cached = 0
    if prefix >= minimum and cache.hit(json.dumps(messages[:-1], sort_keys=True)):
        cached = prefix // OPENAI_CACHE_STEP * OPENAI_CACHE_STEP
    completion = shaped.reasoning_tokens + shaped.answer_tokens
    return {
        "object": "chat.completion",
        "model": model or "sim",
        "system_fingerprint": "fp_sim",
        "service_tier": "default",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": shaped.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


def anthropic_answer(
    body: dict[str, Any], persona: Persona, cache: PrefixCache, fault: Fault, config: SimConfig
) -> dict[str, Any]:
    system_blocks = body.get("system") or []
    if isinstance(system_blocks, str):
        system_blocks = [{"type": "text", "text": system_blocks}]
    messages = body.get("messages") or []
    pieces = _pieces(body)
    system = "\n".join(text_of([b]) for b in system_blocks)
    # The row's data is in the last <document> of the conversation (re-asks carry none).
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    document = find_document("\n".join(users))
    invalid = fault == Fault.INVALID

    tools = body.get("tools") or []
    choice = body.get("tool_choice") or {}
    output_format = (body.get("output_config") or {}).get("format")
    tool = None
    value: Any = None
    if tools and choice.get("type") != "none":  # tool_choice none: no tool is called
        tool = next((t for t in tools if t.get("name") == choice.get("name")), tools[0])
    if tool is not None:
        blank = fault == Fault.BLANK
        value = {} if blank else _typed(tool.get("input_schema", {}), document, system, invalid)
        out_text = json.dumps(value, ensure_ascii=False)
    elif output_format is not None:
        out_text = json.dumps(
            _typed(output_format.get("schema") or {}, document, system, invalid, _row_turn(users)),
            ensure_ascii=False,
        )
    else:
        out_text = "Maybe" if invalid else prose(system, document)

    effort = anthropic_effort(body, persona)
    thinking = config.reasoning_tokens.get(effort, 0) if effort else 0
    stop_details = None
    content_blocks: list[dict[str, Any]] = []
    if fault in (Fault.REFUSAL, Fault.CONTENT_FILTER):
        # Anthropic has no content filter of its own: its classifiers end a turn as a refusal.
        shaped = Shaped("", 0, thinking, False)
        stop_reason = "refusal"
        stop_details = {
            "type": "refusal",
            "category": "general_harms" if fault == Fault.REFUSAL else None,
            "explanation": "Simulated refusal." if fault == Fault.REFUSAL else None,
        }
    else:
        shaped = shape(out_text, thinking, body.get("max_tokens"), fault, config)
        if shaped.cut:
            stop_reason = "max_tokens"
            if shaped.content:
                content_blocks.append({"type": "text", "text": shaped.content, "citations": None})
        elif tool is not None:
            stop_reason = "tool_use"
            content_blocks.append(
                {"type": "tool_use", "id": "toolu_sim", "name": tool["name"], "input": value}
            )
        else:
            stop_reason = "end_turn"
            content_blocks.append({"type": "text", "text": shaped.content, "citations": None})
    if shaped.reasoning_tokens:
        # Thinking text is empty under the newest models' default display (model pages).
        content_blocks.insert(0, {"type": "thinking", "thinking": "", "signature": "sim-signature"})

    total = anthropic_input_tokens(body)
    marks = [index for index, (_, marked) in enumerate(pieces) if marked]
    read = write = 0
    minimum = (persona.info.min_cacheable_tokens if persona.info else None) or DEFAULT_MIN_CACHEABLE
    if marks:
        prefix = pieces[: marks[-1] + 1]
        prefix_tokens = prompt_tokens([text for text, _ in prefix])
        if prefix_tokens >= minimum:
            if cache.hit(json.dumps(prefix)):
                read = prefix_tokens
            else:
                write = prefix_tokens
    return {
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "sim"),
        "content": content_blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "stop_details": stop_details,
        "usage": {
            "input_tokens": total - read - write,
            "output_tokens": shaped.reasoning_tokens + shaped.answer_tokens,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens_details": {"thinking_tokens": shaped.reasoning_tokens},
            "service_tier": "standard",
        },
    }
