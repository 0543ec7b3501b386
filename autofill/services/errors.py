"""Turning pydantic's validation errors into the API's ``fields`` map."""

from __future__ import annotations

from pydantic import ValidationError

from autofill.errors import InvalidInput
from autofill.validation import FieldProblem


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "body"


def from_validation_error(exc: ValidationError, prefix: str = "") -> InvalidInput:
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        # Model-level validators report at the model's own location; strip pydantic's prefix.
        message = str(error["msg"]).removeprefix("Value error, ")
        loc = tuple(error["loc"])
        problem = error.get("ctx", {}).get("error")
        if isinstance(problem, FieldProblem):
            loc = (*loc, problem.field)
        fields.setdefault(field_path(loc, prefix), message)
    summary = "; ".join(f"{path}: {message}" for path, message in list(fields.items())[:3])
    return InvalidInput(f"invalid request: {summary}", fields)
