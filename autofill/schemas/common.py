"""Shared pieces of the request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from autofill.text import MAX_NAME_CHARS, clean_label


class FieldProblem(ValueError):
    """A model-level rule broken by one field: errors name ``field`` below the model's path
    (``ai.instruction``, not ``ai``), so a form can show the message next to that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class StrictModel(BaseModel):
    """Unknown fields are an error, not silently dropped: a typo must not become a no-op."""

    model_config = ConfigDict(extra="forbid")


def _name(value: str) -> str:
    cleaned = clean_label(value, max_chars=MAX_NAME_CHARS, what="a name")
    if "{" in cleaned or "}" in cleaned:
        raise ValueError(
            "a name must not contain '{' or '}' (they mark references in instructions)"
        )
    return cleaned


# A database or property name as people type it; property names are unique per database after
# folding (see autofill.text.fold).
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_name)]

Limit = Annotated[int, Field(ge=1, le=200, description="Items per page")]
