"""From an AI column and a row to the exact request a fill sends: the one path that fills,
previews and evals all take.

The column's inputs become the document (properties by name, ``content`` for the page); its
instruction becomes the request, with ``{Property}`` references shown as the property's quoted
name (its value is in the document, as data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from autofill.columns import AIConfig
from autofill.config import get_settings
from autofill.kinds import CONTENT_INPUT, ErrorCode, OutputType, Task
from autofill.language import PageLanguage
from autofill.llm import (
    LLMRequest,
    ModelInfo,
    ModelRefused,
    catalogue,
    count_tokens,
    encoding_name,
    expected_reasoning,
    output_limit,
    scaled,
)
from autofill.prompts.budget import FittedPrompt, PromptTooLarge, fit
from autofill.prompts.library import PromptLoadError, load_prompt
from autofill.prompts.render import ColumnSpec, RowData

_REFERENCE = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,200})\}")
# Answer room reserved per kind of output (a translation's is sized from its source).
RESERVED_OUTPUT = {"text": 512, "typed": 256}
# What a typical answer costs, for estimates (not limits).
EXPECTED_OUTPUT = {"text": 120, "typed": 16}
# A translation's answer room: its source's tokens × this, plus a little. Generous on purpose:
# the same text costs more tokens in some scripts than others (o200k: Thai, Devanagari and
# Amharic run 1.5-3× English), and a cut-off translation is worth nothing.
TRANSLATION_RATIO = 2.0
TRANSLATION_SLACK = 64
MIN_TRANSLATION_ANSWER = 256


@dataclass(frozen=True)
class Prepared:
    request: LLMRequest
    fitted: FittedPrompt
    model_info: ModelInfo
    reserved_output: int  # the output limit a call sends: the answer and room for reasoning
    expected_output: int  # a typical answer's tokens (reasoning included), for estimates
    estimated_cost_usd: float
    max_cost_usd: float


def render_request(instruction: str | None) -> str | None:
    """``Given {Status}`` → ``Given "Status"``; ``{{``/``}}`` → literal braces."""
    if instruction is None:
        return None

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f'"{match.group(1).strip()}"'
        return match.group(0)[0]

    return _REFERENCE.sub(replace, instruction)


def column_spec(ai: AIConfig) -> ColumnSpec:
    return ColumnSpec(
        task=ai.task,
        request=render_request(ai.instruction),
        target_language=ai.target_language,
        output=ai.output,
    )


def row_data(
    ai: AIConfig,
    names: dict[str, str],
    values: dict[str, Any],
    content: str,
    ai_values: dict[str, Any],
) -> RowData:
    """The column's inputs only: nothing of the row it does not read reaches the model."""
    properties: dict[str, Any] = {}
    page: str | None = None
    for input_id in ai.inputs:
        if input_id == CONTENT_INPUT:
            page = content
        elif input_id in names:
            properties[names[input_id]] = (
                ai_values[input_id] if input_id in ai_values else values.get(input_id)
            )
    return RowData(properties, page)


def _kind(spec: ColumnSpec) -> str:
    if spec.task == Task.TRANSLATE:
        return "translate"
    return "typed" if spec.output.type != OutputType.TEXT else "text"


def _source_tokens(row: RowData, info: ModelInfo) -> int:
    """The tokens of what a translation translates: the page, or the properties' values."""
    text = row.content if row.content else "\n".join(str(v) for v in row.properties.values())
    return scaled(count_tokens(text, encoding_name(info)), info)


def _translation_room(row: RowData, info: ModelInfo) -> tuple[int, int, int | None]:
    """(answer tokens, expected answer tokens, most page tokens one answer can translate or
    None when the page fits): the answer is sized from the source, within the model's output
    limit less the room its reasoning needs."""
    reasoning = output_limit(info, 0)  # output_limit(info, 0) is the reasoning room alone
    ceiling = max(info.max_output_tokens - (reasoning if reasoning > 1 else 0), 1)
    source = _source_tokens(row, info)
    wanted = int(source * TRANSLATION_RATIO) + TRANSLATION_SLACK
    answer = min(max(wanted, MIN_TRANSLATION_ANSWER), ceiling)
    expected = min(answer, max(16, int(source * 1.1)))
    if wanted <= ceiling or not row.content:
        return answer, expected, None
    return answer, expected, max(int((ceiling - TRANSLATION_SLACK) / TRANSLATION_RATIO), 1)


def prepare(
    ai: AIConfig,
    row: RowData,
    max_input_tokens: int | None = None,
    known_language: PageLanguage | None = None,
) -> Prepared:
    spec = column_spec(ai)
    info = catalogue().get(ai.model)
    kind = _kind(spec)
    content_cap = None
    if kind == "translate":
        answer, expected_answer, content_cap = _translation_room(row, info)
    else:
        answer = min(RESERVED_OUTPUT[kind], info.max_output_tokens)
        expected_answer = min(EXPECTED_OUTPUT[kind], answer)
    # A reasoning model spends output tokens before it answers: the window keeps room for
    # them, and the cost ceiling counts them.
    reserved = output_limit(info, answer)
    expected = expected_answer + expected_reasoning(info)
    fitted = fit(
        load_prompt(spec.prompt_task),
        spec,
        row,
        info,
        reserved_output=reserved,
        max_input_tokens=max_input_tokens or ai.max_input_tokens,
        # Only typed answers are re-asked; each re-ask adds turns the window must hold.
        reasks=get_settings().max_reasks if spec.output.type != OutputType.TEXT else 0,
        max_content_tokens=content_cap,
        keep="head" if kind == "translate" else "head_and_tail",
        known_language=known_language,
    )
    request = LLMRequest(
        model=ai.model, messages=fitted.messages, output=spec.output, max_output_tokens=answer
    )
    return Prepared(
        request=request,
        fitted=fitted,
        model_info=info,
        reserved_output=reserved,
        expected_output=expected,
        estimated_cost_usd=info.cost(fitted.input_tokens, expected),
        max_cost_usd=info.cost(fitted.input_tokens, reserved),
    )


class CannotPrepare(Exception):
    """A column's request cannot be built for a row: the prompt does not fit, a prompt file is
    broken, or the column's model cannot be used. ``code`` is what the cell says; ``field``
    the part of the column's configuration to change (None: not the column's fault)."""

    def __init__(self, message: str, code: ErrorCode, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def prepare_for_row(
    ai: AIConfig,
    names: dict[str, str],
    values: dict[str, Any],
    content: str,
    ai_values: dict[str, Any],
    *,
    max_input_tokens: int | None = None,
    known_language: PageLanguage | None = None,
) -> Prepared:
    """The request a column sends for a row: what a fill, a preview, a run's estimate and the
    evals all build. ``known_language``: the page's language as the row keeps it, if it
    does. Raises only CannotPrepare."""
    try:
        data = row_data(ai, names, values, content, ai_values)
        return prepare(ai, data, max_input_tokens, known_language)
    except PromptTooLarge as exc:
        raise CannotPrepare(str(exc), ErrorCode.PROMPT_ERROR, "ai.max_input_tokens") from exc
    except PromptLoadError as exc:
        raise CannotPrepare(str(exc), ErrorCode.PROMPT_ERROR, None) from exc
    except ModelRefused as exc:
        raise CannotPrepare(exc.message, exc.code, "ai.model") from exc
