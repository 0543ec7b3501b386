"""What a prompt file may contain. Unknown fields are errors: a typo must not silently drop an
example or a rule (the habit of simonw/llm's templates)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from autofill.kinds import PromptTask


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the page")
    tags: list[str] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)
    content: str | None = Field(default=None, description="The page body; absent if not an input")
    request: str | None = Field(default=None, description="key_info / custom: what is asked")
    target_language: str | None = None
    options: list[str] | None = None
    multiple: bool = False
    allow_none: bool = False
    output: Literal["number", "date", "checkbox", "select", "multi_select"] | None = None
    answer: Any
    reason: str | None = None


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: PromptTask
    description: str
    instruction: str = Field(min_length=20)
    rules: list[str] = Field(min_length=1)
    examples: list[Example] = Field(min_length=1)

    @model_validator(mode="after")
    def _examples_fit_the_task(self) -> PromptFile:
        ids = [example.id for example in self.examples]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"example ids repeat: {', '.join(sorted(duplicates))}")
        for example in self.examples:
            needs = {
                PromptTask.KEY_INFO: ["request"],
                PromptTask.CUSTOM: ["request"],
                PromptTask.CUSTOM_TYPED: ["request", "output"],
                PromptTask.TRANSLATE: ["target_language"],
                PromptTask.CLASSIFY: ["options"],
            }.get(self.task, [])
            for name in needs:
                if getattr(example, name) is None:
                    raise ValueError(
                        f"example {example.id!r} needs `{name}` for a {self.task} prompt"
                    )
        return self
