"""Fitting a prompt into the model's window with room for the answer.

budget = context window − reserved answer tokens − margin − room for re-asks (typed answers:
each re-ask adds turns, autofill.llm.window), capped by the column's ``max_input_tokens``. When
the prompt is over it: drop few-shot examples from the end of the ordered list (the first is the
nearest the page's language and is never dropped; at least one stays), then cut the middle of
the page, keeping its head and tail at paragraph, sentence or word ends in any script (see
autofill.segments), never inside a grapheme, with a marker saying how much was cut. A
translation keeps only the head, marked at its end, so no middle part goes untranslated.

Counts use the model's tokenizer (catalogue ``tokenizer``); for models whose tokenizer tiktoken
does not have (Anthropic, self-hosted), o200k counts × the catalogue's ``token_factor`` for that
family, a deliberate over-estimate, labelled as an estimate wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from autofill.language import PageLanguage, page_language
from autofill.llm import (
    ChatMessage,
    ModelInfo,
    encoding,
    encoding_name,
    margin,
    prompt_tokens,
    reask_room,
)
from autofill.outputs import OutputSpec
from autofill.prompts.library import LoadedPrompt
from autofill.prompts.render import ColumnSpec, Rendered, RowData, order_examples, render
from autofill.segments import head_end, tail_start

Keep = Literal["head_and_tail", "head"]


class PromptTooLarge(Exception):
    """Even with one example and an empty page the prompt does not fit."""


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[ChatMessage]
    prompt_version: str
    examples: list[str]
    language: str | None  # the page's language as named in the request (None: not named)
    input_tokens: int
    budget: int
    truncated: bool  # the page or a property was cut to fit
    cut_chars: int  # characters of the page left out
    cut_properties: tuple[str, ...] = ()  # properties shortened to their limit
    # The page's language when the page was what it was told by (None: the column reads no
    # page, or the page is empty): what the row keeps for its other columns' fills.
    page_language: PageLanguage | None = None


def input_budget(
    info: ModelInfo, reserved_output: int, max_input_tokens: int | None, reasks: int = 0
) -> int:
    """Prompt tokens the first call may use: the window less the output limit, the margin and
    room for ``reasks`` re-asks (each adds turns to later calls), capped by the column's
    ``max_input_tokens``."""
    budget = info.context_window - reserved_output - margin(info) - reask_room(info, reasks)
    return min(budget, max_input_tokens) if max_input_tokens else budget


def count_messages(
    messages: list[ChatMessage],
    info: ModelInfo,
    memo: dict[str, int] | None = None,
    output: OutputSpec | None = None,
) -> int:
    """Prompt tokens of ``messages`` (and of a typed ``output``'s schema): see
    autofill.llm.window.prompt_tokens."""
    return prompt_tokens(messages, info, output, memo)


def fit(
    loaded: LoadedPrompt,
    column: ColumnSpec,
    row: RowData,
    info: ModelInfo,
    *,
    reserved_output: int,
    max_input_tokens: int | None = None,
    reasks: int = 0,
    max_content_tokens: int | None = None,
    keep: Keep = "head_and_tail",
    known_language: PageLanguage | None = None,
) -> FittedPrompt:
    """The request for ``row`` within the window. ``max_content_tokens`` caps the page whatever
    the window (a translation's page must fit its answer); ``keep`` says what a cut keeps: the
    head and the tail (the page's gist), or only the head (a translation, which must not skip
    a middle part)."""
    budget = input_budget(info, reserved_output, max_input_tokens, reasks)
    sample = row.content if row.content else " ".join(str(v) for v in row.properties.values())
    # ``known_language``: the page's, as the row keeps it — used only when the page is what
    # the language is told by.
    if row.content and known_language is not None:
        language = known_language
    else:
        language = page_language(sample)
    told_by_page = language if row.content else None
    examples = order_examples(loaded.prompt.examples, language)
    content = row.content or ""
    cut_chars = 0
    if max_content_tokens is not None and row.content:
        cut_text, cut_chars = cut_to(content, max_content_tokens, info, keep)
        row = replace(row, content=cut_text)

    memo: dict[str, int] = {}
    rendered = render(loaded, column, row, examples, language)
    tokens = count_messages(rendered.messages, info, memo, column.output)
    while tokens > budget and len(examples) > 1:
        examples = examples[:-1]
        rendered = render(loaded, column, row, examples, language)
        tokens = count_messages(rendered.messages, info, memo, column.output)
    if tokens <= budget:
        return _fitted(rendered, language, tokens, budget, cut_chars, told_by_page)

    # Still over: cut the page. First see what everything else costs with an empty page.
    bare = count_messages(
        render(loaded, column, replace(row, content=""), examples, language).messages,
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
        cut_text, cut = cut_to(content, allowance, info, keep)
        rendered = render(loaded, column, replace(row, content=cut_text), examples, language)
        tokens = count_messages(rendered.messages, info, memo, column.output)
        if tokens <= budget:
            return _fitted(rendered, language, tokens, budget, cut, told_by_page)
        allowance -= tokens - budget + 8
        if allowance <= 0:
            break
    raise PromptTooLarge(f"could not fit the page into {budget} tokens")


def _fitted(
    rendered: Rendered,
    language: PageLanguage,
    tokens: int,
    budget: int,
    cut: int,
    told_by_page: PageLanguage | None,
) -> FittedPrompt:
    return FittedPrompt(
        rendered.messages,
        rendered.prompt_version,
        rendered.examples,
        language.code if language.confident else None,
        tokens,
        budget,
        cut > 0 or bool(rendered.cut_properties),
        cut,
        rendered.cut_properties,
        told_by_page,
    )


MARKER = "\n\n[… {cut:,} characters omitted …]\n\n"
# A translation's page is cut at its end: what follows the head is not translated.
END_MARKER = (
    "\n\n[… {cut:,} more characters, not included: the page is too long to translate in one "
    "answer …]"
)


def cut_to(text: str, max_tokens: int, info: ModelInfo, keep: Keep) -> tuple[str, int]:
    if keep == "head":
        return cut_head(text, max_tokens, info)
    return cut_middle(text, max_tokens, info)


def _tokens(text: str, info: ModelInfo) -> tuple[list[int], float]:
    enc = encoding(encoding_name(info))
    scale = info.token_factor if info.estimated_counts else 1.0
    return enc.encode(text, disallowed_special=()), scale


def _chars(tokens: list[int], info: ModelInfo) -> int:
    """How many characters of the text ``tokens`` (a prefix or suffix of its encoding) cover."""
    enc = encoding(encoding_name(info))
    return len(enc.decode_bytes(tokens).decode("utf-8", errors="ignore"))


def cut_middle(text: str, max_tokens: int, info: ModelInfo) -> tuple[str, int]:
    """Keep the head (two thirds) and tail (one third) of ``text`` within about ``max_tokens``."""
    tokens, scale = _tokens(text, info)
    keep = int(max_tokens / scale) - 24  # room for the marker
    if len(tokens) * scale <= max_tokens:
        return text, 0
    if keep <= 0:
        return MARKER.format(cut=len(text)).strip(), len(text)
    head_tokens, tail_tokens = keep * 2 // 3, keep - keep * 2 // 3
    head_chars = _chars(tokens[:head_tokens], info)
    tail_chars = _chars(tokens[-tail_tokens:], info) if tail_tokens else 0
    end = head_end(text, head_chars)
    start = tail_start(text, max(len(text) - tail_chars, end))
    cut = start - end
    return text[:end] + MARKER.format(cut=cut) + text[start:], cut


def cut_head(text: str, max_tokens: int, info: ModelInfo) -> tuple[str, int]:
    """Keep only the head of ``text`` within about ``max_tokens``, with a marker saying how much
    of the end was left out."""
    tokens, scale = _tokens(text, info)
    if len(tokens) * scale <= max_tokens:
        return text, 0
    keep = int(max_tokens / scale) - 32  # room for the marker
    if keep <= 0:
        return END_MARKER.format(cut=len(text)).strip(), len(text)
    end = head_end(text, _chars(tokens[:keep], info), slack=0.1)
    cut = len(text) - end
    return text[:end] + END_MARKER.format(cut=cut), cut
