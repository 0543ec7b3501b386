"""Keeping a typed answer's schema within OpenAI's strict-mode limits."""

from __future__ import annotations

import json

from autofill.llm.schema_limits import fits_strict, strict_schema
from autofill.llm.typed import answer_schema
from autofill.outputs import OutputSpec


def test_an_ordinary_select_keeps_its_enum() -> None:
    schema = answer_schema(OutputSpec(type="select", options=["A", "B"], allow_none=True))
    assert fits_strict(schema) and strict_schema(schema) is schema


def test_500_options_of_100_characters_lose_their_enum_only() -> None:
    options = [f"{i:03d}" + "x" * 97 for i in range(500)]
    schema = answer_schema(OutputSpec(type="multi_select", options=options))
    assert not fits_strict(schema)
    sent = strict_schema(schema)
    assert "enum" not in json.dumps(sent)
    assert sent["properties"]["value"]["type"] == "array"
    assert sent["additionalProperties"] is False and sent["required"] == ["value"]


def _enums(*sizes: int) -> dict[str, object]:
    props = {
        f"p{n}": {"type": "string", "enum": [f"o{i}" for i in range(size)]}
        for n, size in enumerate(sizes)
    }
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def test_enum_values_fit_until_a_thousand_in_all() -> None:
    assert fits_strict(_enums(500, 500)) and not fits_strict(_enums(500, 501))


def test_a_property_named_enum_is_not_dropped() -> None:
    schema = {"type": "object", "properties": {"enum": {"type": "string", "enum": ["x"] * 1001}}}
    assert strict_schema(schema)["properties"] == {"enum": {"type": "string"}}
