"""What an eval case is, and loading them from ``evals/cases/*.yaml``.

A case is one page (content and properties) given to one kind of AI column (task, request,
output type, target language), with the checks its answer must pass. Cases are data: a person
writes them (``handwritten``) or accepts them from users' shared feedback (``user_shared``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from autofill.columns import AIConfig
from autofill.config import get_settings
from autofill.kinds import CONTENT_INPUT, OutputType, PromptTask, Task
from autofill.outputs import OutputSpec

CASES_DIR = Path(__file__).resolve().parent / "cases"
# The checks a case may name (evals/checks.py implements each).
CHECK_NAMES = frozenset(
    {
        "language",
        "max_chars",
        "min_chars",
        "no_preamble",
        "no_refusal",
        "no_template",
        "no_example_leak",
        "not_source",
        "keeps_numbers",
        "keeps_urls",
        "chrf",
        "schema",
        "in_options",
        "equals",
        "contains",
        "contains_any",
        "not_contains",
    }
)


class CaseLoadError(Exception):
    """A case file is invalid; the message names the file, the case and the field."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["handwritten", "user_shared"] = "handwritten"
    feedback_id: str | None = None
    consent: bool | None = Field(default=None, description="The user agreed to share the page")

    @model_validator(mode="after")
    def _shared_needs_consent(self) -> Source:
        if self.kind == "user_shared" and (not self.feedback_id or self.consent is not True):
            raise ValueError("a user_shared case needs its feedback_id and consent: true")
        return self


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    task: PromptTask
    language: str = Field(pattern=r"^[a-z]{2}$", description="The page's language")
    content: str | None = Field(default=None, description="The page body; None: not an input")
    properties: dict[str, Any] = Field(default_factory=dict)
    request: str | None = Field(default=None, description="The column's instruction")
    target_language: str | None = None
    output: OutputSpec = Field(default_factory=OutputSpec)
    reference: Any = Field(default=None, description="A good answer, when one is known")
    checks: dict[str, Any] = Field(
        default_factory=dict, description="Checks beyond the task's defaults; false turns one off"
    )
    severity: Literal["block", "warn"] = "block"
    tags: list[str] = Field(default_factory=list)
    source: Source = Field(default_factory=Source)
    samples: int | None = Field(default=None, ge=1, le=20)
    pass_share: float = Field(default=1.0, gt=0, le=1, description="Samples that must pass")

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.task == PromptTask.TRANSLATE and not self.target_language:
            raise ValueError("a translate case needs target_language")
        if (
            self.task in (PromptTask.KEY_INFO, PromptTask.CUSTOM, PromptTask.CUSTOM_TYPED)
            and not self.request
        ):
            raise ValueError(f"a {self.task} case needs its request")
        if self.task == PromptTask.CLASSIFY and self.output.type not in (
            OutputType.SELECT,
            OutputType.MULTI_SELECT,
        ):
            raise ValueError("a classify case needs a select or multi_select output")
        if self.task == PromptTask.CUSTOM_TYPED and self.output.type == OutputType.TEXT:
            raise ValueError("a custom_typed case needs a typed output (number, date, ...)")
        if (
            self.task != PromptTask.CUSTOM_TYPED
            and self.task != PromptTask.CLASSIFY
            and (self.output.type != OutputType.TEXT)
        ):
            raise ValueError(f"a {self.task} case answers in text; leave output out")
        if self.content is None and not self.properties:
            raise ValueError("a case needs content or properties")
        unknown = sorted(set(self.checks) - CHECK_NAMES)
        if unknown:
            raise ValueError(f"unknown check(s): {', '.join(unknown)}")
        if (
            "equals" in self.checks
            and self.checks["equals"]
            and "reference" not in (self.model_fields_set)
        ):
            raise ValueError("the equals check needs a reference")
        return self

    @property
    def answer_language(self) -> str:
        return (self.target_language or self.language).split("-")[0]

    def column(self, model: str) -> AIConfig:
        """The AI column this case stands for, as the service stores it (inputs by id; here
        property names serve as ids)."""
        inputs = list(self.properties)
        if self.content is not None:
            inputs.append(CONTENT_INPUT)
        task = Task.CUSTOM if self.task == PromptTask.CUSTOM_TYPED else Task(self.task)
        return AIConfig(
            task=task,
            instruction=self.request,
            explicit_inputs=tuple(inputs),
            inputs=tuple(inputs),
            target_language=self.target_language,
            output=self.output,
            model=model,
            auto_update=True,
            max_input_tokens=None,
        )


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[Case] = Field(min_length=1)


def cases_dir() -> Path:
    return get_settings().eval_cases_dir or CASES_DIR


def load_cases(directory: Path | None = None, task: str | None = None) -> list[Case]:
    found: list[Case] = []
    for path in sorted((directory or cases_dir()).glob("*.yaml")):
        found += load_file(path)
    ids = Counter(case.id for case in found)
    duplicated = sorted(case_id for case_id, count in ids.items() if count > 1)
    if duplicated:
        raise CaseLoadError(f"case ids must be unique; repeated: {', '.join(duplicated)}")
    return [case for case in found if task is None or case.task == task]


def load_file(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseLoadError(f"{path}: cannot read: {exc}") from None
    try:
        return CaseFile.model_validate(data).cases
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        location = list(first["loc"])
        where = ""
        if len(location) >= 2 and location[0] == "cases" and isinstance(location[1], int):
            raw = (data or {}).get("cases", [])
            index = location[1]
            case_id = (
                raw[index].get("id") if index < len(raw) and isinstance(raw[index], dict) else None
            )
            where = f" case {case_id or index}"
            location = location[2:]
        field = ".".join(str(part) for part in location) or "(case)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CaseLoadError(f"{path}:{where} field {field}: {message}") from None
