"""Shared pieces of the request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from autofill.text import MAX_NAME_CHARS, clean_label
from autofill.validation import FieldProblem, StrictModel

__all__ = ["FieldProblem", "Limit", "Name", "StrictModel"]


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
