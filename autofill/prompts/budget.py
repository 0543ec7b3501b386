"""Fitting a prompt into the model's window with room for the answer.

budget = context window − reserved answer tokens − margin, capped by the column's
``max_input_tokens``. When the prompt is over it: drop few-shot examples from the end of the
ordered list (the first is in the page's language and is never dropped; at least one stays),
then cut the middle of the page, keeping its head and tail at paragraph or sentence boundaries,
never inside a grapheme, with a marker saying how much was cut.

Counts use the model's tokenizer (catalogue ``tokenizer``); for models whose tokenizer tiktoken
does not have (Anthropic, self-hosted), o200k counts × the catalogue's ``token_factor`` for that
family, a deliberate over-estimate, labelled as an estimate wherever it is shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import regex

from autofill.language import detect_language
from autofill.llm import (
    ChatMessage,
    ModelInfo,
    answer_schema,
    count_tokens,
    encoding,
    is_structured,
)
from autofill.outputs import OutputSpec
from autofill.prompts.library import LoadedPrompt
from autofill.prompts.render import ColumnSpec, Rendered, RowData, order_examples, render

PER_MESSAGE = 4  # framing tokens per chat message
PRIMING = 3  # tokens that prime the answer
_BOUNDARY = re.compile(r"\n\s*\n|(?<=[.!?])\s+|(?<=[。！？])")


class PromptTooLarge(Exception):
    """Even with one example and an empty page the prompt does not fit."""


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[ChatMessage]
    prompt_version: str
    examples: list[str]
    language: str | None
    input_tokens: int
    budget: int
    truncated: bool
    cut_chars: int


def input_budget(info: ModelInfo, reserved_output: int, max_input_tokens: int | None) -> int:
    margin = max(64, info.context_window // 50)
    budget = info.context_window - reserved_output - margin
    return min(budget, max_input_tokens) if max_input_tokens else budget


def _encoding_name(info: ModelInfo) -> str:
    return "o200k_base" if info.tokenizer == "estimate" else info.tokenizer


def count_messages(
    messages: list[ChatMessage],
    info: ModelInfo,
    memo: dict[str, int] | None = None,
    output: OutputSpec | None = None,
) -> int:
    """Prompt tokens of ``messages``, and of the answer's schema for a typed ``output`` (both
    providers bill the schema as input: it is sent as a response format or a tool). ``memo``
    remembers counts by content, so re-rendering with fewer examples does not encode an
    unchanged 100k-token page again."""
    name = _encoding_name(info)
    memo = {} if memo is None else memo
    raw = PRIMING
    if output is not None and is_structured(output):
        raw += count_tokens(json.dumps(answer_schema(output), ensure_ascii=False), name)
    for message in messages:
        count = memo.get(message.content)
        if count is None:
            count = memo[message.content] = count_tokens(message.content, name)
        raw += count + PER_MESSAGE
    return int(raw * info.token_factor) + 1 if info.estimated_counts else raw


def fit(
    loaded: LoadedPrompt,
    column: ColumnSpec,
    row: RowData,
    info: ModelInfo,
    *,
    reserved_output: int,
    max_input_tokens: int | None = None,
) -> FittedPrompt:
    budget = input_budget(info, reserved_output, max_input_tokens)
    sample = row.content if row.content else " ".join(str(v) for v in row.properties.values())
    language = detect_language(sample)
    examples = order_examples(loaded.prompt.examples, language)

    memo: dict[str, int] = {}
    rendered = render(loaded, column, row, examples)
    tokens = count_messages(rendered.messages, info, memo, column.output)
    while tokens > budget and len(examples) > 1:
        examples = examples[:-1]
        rendered = render(loaded, column, row, examples)
        tokens = count_messages(rendered.messages, info, memo, column.output)
    if tokens <= budget:
        return _fitted(rendered, language, tokens, budget, 0)

    # Still over: cut the page. First see what everything else costs with an empty page.
    content = row.content or ""
    bare = count_messages(
        render(loaded, column, replace(row, content=""), examples).messages,
        info,
        memo,
        column.output,
    )
    if bare >= budget or row.content is None:
        raise PromptTooLarge(
            f"the prompt needs {bare} tokens before any page content, over the budget of {budget}"
        )
    allowance = budget - bare
    for _ in range(8):  # re-tokenising the cut text can differ slightly: tighten and retry
        cut_text, cut_chars = cut_middle(content, allowance, info)
        rendered = render(loaded, column, replace(row, content=cut_text), examples)
        tokens = count_messages(rendered.messages, info, memo, column.output)
        if tokens <= budget:
            return _fitted(rendered, language, tokens, budget, cut_chars)
        allowance -= tokens - budget + 8
        if allowance <= 0:
            break
    raise PromptTooLarge(f"could not fit the page into {budget} tokens")


def _fitted(
    rendered: Rendered, language: str | None, tokens: int, budget: int, cut: int
) -> FittedPrompt:
    return FittedPrompt(
        rendered.messages,
        rendered.prompt_version,
        rendered.examples,
        language,
        tokens,
        budget,
        cut > 0,
        cut,
    )


MARKER = "\n\n[… {cut:,} characters omitted …]\n\n"


def cut_middle(text: str, max_tokens: int, info: ModelInfo) -> tuple[str, int]:
    """Keep the head (two thirds) and tail (one third) of ``text`` within about ``max_tokens``."""
    enc = encoding(_encoding_name(info))
    scale = info.token_factor if info.estimated_counts else 1.0
    tokens = enc.encode(text, disallowed_special=())
    keep = int(max_tokens / scale) - 24  # room for the marker
    if len(tokens) * scale <= max_tokens:
        return text, 0
    if keep <= 0:
        return MARKER.format(cut=len(text)).strip(), len(text)
    head_tokens, tail_tokens = keep * 2 // 3, keep - keep * 2 // 3
    head_chars = len(enc.decode_bytes(tokens[:head_tokens]).decode("utf-8", errors="ignore"))
    tail_chars = (
        len(enc.decode_bytes(tokens[-tail_tokens:]).decode("utf-8", errors="ignore"))
        if tail_tokens
        else 0
    )
    head_end = _snap_head(text, head_chars)
    tail_start = _snap_tail(text, max(len(text) - tail_chars, head_end))
    cut = tail_start - head_end
    return text[:head_end] + MARKER.format(cut=cut) + text[tail_start:], cut


def _graphemes_boundary(text: str, position: int, *, forward: bool) -> int:
    """The nearest grapheme-cluster boundary at or before (or after) ``position``."""
    start = max(position - 64, 0)
    # Clusters are short; segmenting a window from a line or space start is exact in practice.
    anchor = max(text.rfind("\n", 0, start + 1), text.rfind(" ", 0, start + 1), 0)
    edges = [anchor]
    for match in regex.finditer(r"\X", text[anchor : position + 64]):
        edges.append(anchor + match.end())
    if forward:
        return min((e for e in edges if e >= position), default=len(text))
    return max((e for e in edges if e <= position), default=0)


def _snap_head(text: str, end: int) -> int:
    """Cut the head at the last paragraph or sentence end in its last 30 %, else a grapheme."""
    floor = int(end * 0.7)
    best = None
    for match in _BOUNDARY.finditer(text, floor, end):
        best = (
            match.start() if match.group().strip() == "" and "\n" in match.group() else match.end()
        )
    return best if best is not None and best > 0 else _graphemes_boundary(text, end, forward=False)


def _snap_tail(text: str, start: int) -> int:
    """Start the tail after the first paragraph or sentence end in its first 30 %, else at a
    grapheme boundary."""
    ceiling = start + int((len(text) - start) * 0.3)
    match = _BOUNDARY.search(text, start, ceiling)
    if match is not None:
        return match.end()
    return _graphemes_boundary(text, start, forward=True)
