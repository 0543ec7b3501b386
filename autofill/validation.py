"""The base of every pydantic model we validate input with, and the error that names a field.

A leaf module: request shapes (autofill.schemas) and value types below them (autofill.outputs)
share it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FieldProblem(ValueError):
    """A model-level rule broken by one field: errors name ``field`` below the model's path
    (``ai.instruction``, not ``ai``), so a form can show the message next to that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class StrictModel(BaseModel):
    """Unknown fields are an error, not silently dropped: a typo must not become a no-op."""

    model_config = ConfigDict(extra="forbid")
