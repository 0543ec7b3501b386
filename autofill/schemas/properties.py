"""Property definitions, including the AI column configuration."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from autofill.kinds import (
    CONTENT_INPUT,
    TASK_OUTPUTS,
    PropertyType,
    Task,
)
from autofill.llm import ModelRefused, catalogue
from autofill.outputs import Options, OutputSpec
from autofill.schemas.common import Name
from autofill.text import fold
from autofill.validation import FieldProblem, StrictModel

MAX_INSTRUCTION_CHARS = 4_000
MAX_INPUTS = 50

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_MODEL = re.compile(r"^(openai|anthropic|compat|sim):[A-Za-z0-9._:/@+\-]{1,150}$")


def _language(value: str) -> str:
    if not _LANGUAGE_TAG.match(value):
        raise ValueError(f"{value!r} is not a BCP 47 language tag such as 'fr' or 'pt-BR'")
    head, *rest = value.split("-")
    return "-".join([head.lower(), *rest])


def _not_reserved(value: str) -> str:
    if fold(value) == CONTENT_INPUT:
        raise ValueError("'content' is reserved: in AI inputs it means the page body")
    return value


def _model(value: str) -> str:
    if not _MODEL.match(value):
        raise ValueError(
            f"{value!r} is not a model reference: use 'openai:<model>', 'anthropic:<model>', "
            "'compat:<name>' or 'sim:<model>'"
        )
    try:
        catalogue().get(value)  # unknown and retired models are refused where they are chosen
    except ModelRefused as exc:
        raise ValueError(exc.message) from None
    return value


LanguageTag = Annotated[str, AfterValidator(_language)]
ModelRef = Annotated[str, AfterValidator(_model)]
PropertyName = Annotated[Name, AfterValidator(_not_reserved)]


class AIConfigIn(StrictModel):
    """An AI column's configuration as a client sends it (inputs by property name or id)."""

    task: Task
    instruction: str | None = Field(
        default=None,
        max_length=MAX_INSTRUCTION_CHARS,
        description="What to extract, or the custom prompt. `{Property}` references another "
        "property; `{{` and `}}` are literal braces.",
    )
    inputs: list[str] | None = Field(
        default=None,
        max_length=MAX_INPUTS,
        description="Properties the column reads, by name or id; `content` is the page body. "
        "Derived from the instruction's references when omitted.",
    )
    target_language: LanguageTag | None = Field(default=None, description="translate only")
    output: OutputSpec | None = None
    model: ModelRef | None = Field(default=None, description="e.g. openai:gpt-4.1-mini")
    auto_update: bool = True
    max_input_tokens: int | None = Field(default=None, ge=256, le=2_000_000)

    @model_validator(mode="after")
    def _task_rules(self) -> AIConfigIn:
        if self.instruction is not None and not self.instruction.strip():
            self.instruction = None
        if self.task in (Task.KEY_INFO, Task.CUSTOM) and self.instruction is None:
            raise FieldProblem("instruction", f"a {self.task.value} column needs an instruction")
        if self.task == Task.TRANSLATE and self.target_language is None:
            raise FieldProblem("target_language", "a translate column needs a target_language")
        if self.task != Task.TRANSLATE and self.target_language is not None:
            raise FieldProblem(
                "target_language", "target_language applies to translate columns only"
            )
        if self.output is None:
            if self.task == Task.CLASSIFY:
                raise FieldProblem("output", "a classify column needs output options")
            self.output = OutputSpec()
        allowed = TASK_OUTPUTS[self.task]
        if self.output.type not in allowed:
            names = ", ".join(kind.value for kind in allowed)
            raise FieldProblem(
                "output",
                f"a {self.task.value} column outputs {names}, not {self.output.type.value}",
            )
        return self


class AIConfigPatch(StrictModel):
    """Fields to change in an AI configuration; the merged result is validated as a whole."""

    task: Task | None = None
    instruction: str | None = Field(default=None, max_length=MAX_INSTRUCTION_CHARS)
    inputs: list[str] | None = Field(default=None, max_length=MAX_INPUTS)
    target_language: LanguageTag | None = None
    output: OutputSpec | None = None
    model: ModelRef | None = None
    auto_update: bool | None = None
    max_input_tokens: int | None = Field(default=None, ge=256, le=2_000_000)


class PropertyCreate(StrictModel):
    name: PropertyName
    type: PropertyType
    options: Options | None = Field(default=None, description="select and multi_select only")
    ai: AIConfigIn | None = Field(default=None, description="ai only")
    position: int | None = Field(default=None, ge=0, description="0-based; appended if omitted")

    @model_validator(mode="after")
    def _fields_match_type(self) -> PropertyCreate:
        needs_options = self.type in (PropertyType.SELECT, PropertyType.MULTI_SELECT)
        if needs_options and self.options is None:
            raise FieldProblem("options", f"a {self.type.value} property needs options")
        if not needs_options and self.options is not None:
            raise FieldProblem("options", f"a {self.type.value} property takes no options")
        if self.type == PropertyType.AI and self.ai is None:
            raise FieldProblem("ai", "an ai property needs an `ai` configuration")
        if self.type != PropertyType.AI and self.ai is not None:
            raise FieldProblem("ai", f"a {self.type.value} property takes no `ai` configuration")
        return self


class PropertyUpdate(StrictModel):
    name: PropertyName | None = None
    options: Options | None = None
    ai: AIConfigPatch | None = None
    # Present only so a client that sends it gets a clear refusal rather than "extra field".
    type: PropertyType | None = None

    def explicit_fields(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.model_fields_set}
