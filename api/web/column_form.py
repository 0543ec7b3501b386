"""The AI column form: its fields to and from the API's body, and the API's error paths to the
form's fields. The form goes through the very models and services the REST API uses, so a
person sees the same messages an API client gets, each beside the field it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from autofill.db import Property
from autofill.kinds import CONTENT_INPUT, OPTION_OUTPUTS, OutputType, Task

TASKS: list[tuple[str, str]] = [
    (Task.SUMMARY.value, "Summary"),
    (Task.KEY_INFO.value, "Key information"),
    (Task.TRANSLATE.value, "Translation"),
    (Task.CLASSIFY.value, "Classification"),
    (Task.CUSTOM.value, "Custom prompt"),
]
OUTPUT_TYPES = [kind.value for kind in OutputType]
FORM_ERROR = "form"  # errors not about one field: shown above the form


@dataclass
class ColumnForm:
    """What the form shows: values as typed (strings), and a message per field."""

    name: str = ""
    task: str = Task.SUMMARY.value
    instruction: str = ""
    inputs: list[str] = field(default_factory=lambda: [CONTENT_INPUT])
    target_language: str = ""
    output_type: str = OutputType.TEXT.value
    options: str = ""  # one per line
    allow_none: bool = False
    model: str = ""
    auto_update: bool = True
    max_input_tokens: str = ""
    row_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form: MultiDict[str, str]) -> ColumnForm:
        return cls(
            name=form.get("name", "").strip(),
            task=form.get("task", ""),
            instruction=form.get("instruction", ""),
            inputs=form.getlist("inputs"),
            target_language=form.get("target_language", "").strip(),
            output_type=form.get("output_type", OutputType.TEXT.value),
            options=form.get("options", ""),
            allow_none=form.get("allow_none") == "on",
            model=form.get("model", "").strip(),
            auto_update=form.get("auto_update") == "on",
            max_input_tokens=form.get("max_input_tokens", "").strip(),
            row_id=form.get("row_id", ""),
        )

    @classmethod
    def from_property(cls, prop: Property) -> ColumnForm:
        ai = prop.ai
        if ai is None:
            return cls(name=prop.name)
        return cls(
            name=prop.name,
            task=ai.task.value,
            instruction=ai.instruction or "",
            inputs=list(ai.inputs),
            target_language=ai.target_language or "",
            output_type=ai.output.type.value,
            options="\n".join(ai.output.options or []),
            allow_none=ai.output.allow_none,
            model=ai.model,
            auto_update=ai.auto_update,
            max_input_tokens=str(ai.max_input_tokens or ""),
        )

    def ai_body(self) -> dict[str, Any]:
        """The ``ai`` object the API takes. Blank means "not set"; options count only for the
        output types that have them, so a hidden textarea never trips a person up."""
        options = [line.strip() for line in self.options.splitlines() if line.strip()]
        output: dict[str, Any] = {
            "type": self.output_type,
            "allow_none": self.allow_none and self.output_type != OutputType.TEXT.value,
        }
        if self.output_type in {kind.value for kind in OPTION_OUTPUTS}:
            output["options"] = options or None
        return {
            "task": self.task,
            "instruction": self.instruction if self.instruction.strip() else None,
            "inputs": self.inputs,
            "target_language": self.target_language or None,
            "output": output,
            "model": self.model or None,
            "auto_update": self.auto_update,
            "max_input_tokens": self.max_input_tokens or None,
        }

    def create_body(self) -> dict[str, Any]:
        return {"name": self.name, "type": "ai", "ai": self.ai_body()}

    def update_body(self) -> dict[str, Any]:
        return {"name": self.name, "ai": self.ai_body()}


_INDEX = re.compile(r"\[\d+\]")


def form_field(path: str) -> str:
    """The form field an API error path is about (``ai.output.options[2]`` → ``options``)."""
    path = _INDEX.sub("", path).removeprefix("ai.")
    if path.startswith("output.options"):
        return "options"
    if path == "output.allow_none":
        return "allow_none"
    if path.startswith("output"):
        return "output_type"
    known = {
        "name",
        "task",
        "instruction",
        "inputs",
        "target_language",
        "model",
        "auto_update",
        "max_input_tokens",
        "row_id",
    }
    return path if path in known else FORM_ERROR


def field_errors(message: str, fields: dict[str, str]) -> dict[str, str]:
    """The API's ``fields`` map as the form's; a message with no field goes above the form."""
    errors: dict[str, str] = {}
    for path, text in fields.items():
        errors.setdefault(form_field(path), text)
    if not errors:
        errors[FORM_ERROR] = message
    return errors
