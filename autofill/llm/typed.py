"""Typed answers: the JSON schema a model is asked to fill, and checking what it sent back.

Structured output is requested as an object ``{"value": ...}`` (both OpenAI strict
``json_schema`` and Anthropic tool input must be objects). When the column allows "none", the
value may be null and the object carries a ``reason``. Answers are normalised before checking
(option case, width and spacing; numbers and booleans sent as strings), and a refusal to fit is
reported in words a person reads in the cell.
"""

from __future__ import annotations

import json
import re
from typing import Any

from autofill.kinds import OutputType
from autofill.llm.errors import InvalidAnswer
from autofill.outputs import OutputSpec
from autofill.values import validate_value

_JSON_OBJECT = re.compile(r"\{.*\}", re.S)
QUOTED_VALUE_CHARS = 120  # of an invalid value, in the error a cell shows and a re-ask sends


def is_structured(output: OutputSpec) -> bool:
    return output.type != OutputType.TEXT


def answer_schema(output: OutputSpec) -> dict[str, Any]:
    inner = _inner_schema(output)
    properties: dict[str, Any] = {"value": inner}
    if output.allow_none:
        properties["value"] = {"anyOf": [inner, {"type": "null"}]}
        properties["reason"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "When no option fits: why, in one short sentence",
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _inner_schema(output: OutputSpec) -> dict[str, Any]:
    options = output.options or []
    match output.type:
        case OutputType.SELECT:
            return {"type": "string", "enum": options}
        case OutputType.MULTI_SELECT:
            return {"type": "array", "items": {"type": "string", "enum": options}}
        case OutputType.NUMBER:
            return {"type": "number"}
        case OutputType.DATE:
            return {"type": "string", "format": "date", "description": "ISO 8601, YYYY-MM-DD"}
        case OutputType.CHECKBOX:
            return {"type": "boolean"}
        case _:
            return {"type": "string"}


def parse_answer(output: OutputSpec, text: str, data: Any) -> tuple[Any, str | None]:
    """(value, none_reason) for a model's answer, or InvalidAnswer saying what is wrong."""
    if not is_structured(output):
        return text.strip(), None
    payload = data if data is not None else _json_from_text(text)
    if isinstance(payload, dict) and "value" in payload:
        value, reason = payload["value"], payload.get("reason")
    else:
        value, reason = payload, None  # a bare value from a server without structured output
    if value is None or (value == [] and output.type == OutputType.MULTI_SELECT):
        if output.allow_none:
            return None, str(reason) if reason else "no option fits"
        raise InvalidAnswer("model gave no value, and this column needs one")
    return _checked(output, value), None


def _json_from_text(text: str) -> Any:
    stripped = text.strip()
    for candidate in (stripped, *(_JSON_OBJECT.findall(stripped)[:1])):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return stripped


def _checked(output: OutputSpec, value: Any) -> Any:
    options = output.options or []
    shown = ", ".join(options[:20]) + (", ..." if len(options) > 20 else "")
    try:
        match output.type:
            case OutputType.SELECT:
                if isinstance(value, list) and len(value) == 1:
                    value = value[0]
                return validate_value("select", value, options)
            case OutputType.MULTI_SELECT:
                return validate_value(
                    "multi_select", value if isinstance(value, list) else [value], options
                )
            case OutputType.NUMBER:
                return validate_value("number", _number(value))
            case OutputType.CHECKBOX:
                return validate_value("checkbox", _boolean(value))
            case _:
                return validate_value(output.type.value, value, options)
    except ValueError:
        described = (
            json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
        )
        if len(described) > QUOTED_VALUE_CHARS:  # the re-ask shows the whole answer already
            described = described[: QUOTED_VALUE_CHARS - 1] + "…"
        if output.type in (OutputType.SELECT, OutputType.MULTI_SELECT):
            raise InvalidAnswer(
                f"model answered {described}, which is not one of: {shown}"
            ) from None
        kind = {
            "number": "a number",
            "date": "an ISO 8601 date (YYYY-MM-DD)",
            "checkbox": "true or false",
        }
        raise InvalidAnswer(
            f"model answered {described}, which is not {kind[output.type.value]}"
        ) from None


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return (
                float(value.strip().replace(",", ""))
                if "." in value or "," in value
                else int(value)
            )
        except ValueError:
            return value
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value
