"""What a call costs in the model's window, and keeping every call inside it.

A request is fitted once, before the first call (autofill.prompts.budget). Later calls of the
same fill send more: a re-ask adds the model's invalid answer and the error, and a stop at the
output limit is tried again with a larger limit. So the first fit keeps ``REASK_ROOM`` tokens
per allowed re-ask, re-ask turns are clipped to fit that room (``reask_turns``), and a larger
output limit is capped by what the window has left (``room_for_output``). Both providers refuse
a request whose prompt and output limit exceed the window (OpenAI: ``context_length_exceeded``;
Anthropic: "prompt tokens + max_tokens" must not exceed the context window).
"""

from __future__ import annotations

import json

from autofill.llm.catalogue import ModelInfo
from autofill.llm.tokenizer import count_tokens, encoding
from autofill.llm.typed import answer_schema, is_structured
from autofill.llm.types import ChatMessage
from autofill.outputs import OutputSpec

PER_MESSAGE = 4  # framing tokens per chat message
PRIMING = 3  # tokens that prime the answer
# What a re-ask quotes, at most: the invalid answer sent back as the assistant's turn, and the
# error (which may quote a value again).
QUOTED_ANSWER_TOKENS = 96
QUOTED_ERROR_TOKENS = 96
AGAIN = "Answer again with a value that fits, and nothing else."
REASK = "That answer cannot be used: {error}. " + AGAIN
# A blank answer is not sent back as an assistant turn (Anthropic refuses blank text blocks).
REASK_EMPTY = "Your answer was empty: {error}. " + AGAIN
# The most one re-ask adds, in the tokenizer's own count: both quotes, the template, framing.
REASK_ROOM = QUOTED_ANSWER_TOKENS + QUOTED_ERROR_TOKENS + 24 + 2 * PER_MESSAGE + 8


def encoding_name(info: ModelInfo) -> str:
    return "o200k_base" if info.tokenizer == "estimate" else info.tokenizer


def margin(info: ModelInfo) -> int:
    """Tokens kept free of the window: framing a count cannot see, and the estimate's error."""
    return max(64, info.context_window // 50)


def scaled(tokens: int, info: ModelInfo) -> int:
    """A tokenizer count as the model's own (an over-estimate for families we cannot count)."""
    return int(tokens * info.token_factor) + 1 if info.estimated_counts else tokens


def prompt_tokens(
    messages: list[ChatMessage],
    info: ModelInfo,
    output: OutputSpec | None = None,
    memo: dict[str, int] | None = None,
) -> int:
    """Prompt tokens of ``messages``, and of the answer's schema for a typed ``output`` (both
    providers bill the schema as input: it is sent as a response format or a tool). ``memo``
    remembers counts by content, so re-rendering with fewer examples does not encode an
    unchanged 100k-token page again."""
    name = encoding_name(info)
    memo = {} if memo is None else memo
    raw = PRIMING
    if output is not None and is_structured(output):
        raw += count_tokens(json.dumps(answer_schema(output), ensure_ascii=False), name)
    for message in messages:
        count = memo.get(message.content)
        if count is None:
            count = memo[message.content] = count_tokens(message.content, name)
        raw += count + PER_MESSAGE
    return scaled(raw, info)


def reask_room(info: ModelInfo, reasks: int) -> int:
    """Window tokens a fill keeps for ``reasks`` re-asks."""
    return scaled(REASK_ROOM, info) * reasks if reasks > 0 else 0


def room_for_output(info: ModelInfo, input_tokens: int) -> int:
    """The largest output limit a call with ``input_tokens`` of prompt may send."""
    return min(info.max_output_tokens, info.context_window - margin(info) - input_tokens)


def clip(text: str, max_tokens: int, info: ModelInfo) -> str:
    """``text`` within ``max_tokens`` of the model's tokenizer, marked with … when cut."""
    enc = encoding(encoding_name(info))
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    head = enc.decode_bytes(tokens[: max_tokens - 2]).decode("utf-8", errors="ignore")
    return head.rstrip() + "…"


def reask_turns(answer: str, error: str, info: ModelInfo) -> list[ChatMessage]:
    """The turns a re-ask adds: the answer as the assistant said it (clipped), then what is
    wrong with it (clipped), never more than ``REASK_ROOM`` tokens."""
    said = clip(error, QUOTED_ERROR_TOKENS, info)
    if not answer.strip():
        return [ChatMessage("user", REASK_EMPTY.format(error=said))]
    return [
        ChatMessage("assistant", clip(answer, QUOTED_ANSWER_TOKENS, info)),
        ChatMessage("user", REASK.format(error=said)),
    ]


def shrink_to_fit(
    messages: list[ChatMessage],
    first_call: int,
    info: ModelInfo,
    output: OutputSpec | None,
    limit: int,
) -> list[ChatMessage] | None:
    """``messages`` made to fit ``limit`` output tokens in the window, or None if they cannot.

    ``first_call`` is how many messages the first call sent (system, example pairs, the row's
    turn); what follows are re-asks. Re-asks before the latest go first, then few-shot example
    pairs from the last (the first, the nearest the page's language, stays)."""
    room = info.context_window - margin(info) - limit
    memo: dict[str, int] = {}  # each candidate shares most messages with the one before

    def fits(candidate: list[ChatMessage]) -> bool:
        return prompt_tokens(candidate, info, output, memo) <= room

    if fits(messages):
        return messages
    head, row, reasks = messages[: first_call - 1], messages[first_call - 1], messages[first_call:]
    latest = reasks[-2:] if len(reasks) >= 2 and reasks[-2].role == "assistant" else reasks[-1:]
    candidate = [*head, row, *latest]
    if fits(candidate):
        return candidate
    system = head[:1] if head and head[0].role == "system" else []
    pairs = head[len(system) :]
    while len(pairs) > 2 and all(m.role in ("user", "assistant") for m in pairs):
        pairs = pairs[:-2]
        candidate = [*system, *pairs, row, *latest]
        if fits(candidate):
            return candidate
    return None
