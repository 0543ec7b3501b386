from __future__ import annotations

from typing import Any

import pytest

from autofill.llm.errors import InvalidAnswer
from autofill.llm.typed import answer_schema, parse_answer
from autofill.outputs import OutputSpec

SENTIMENT = OutputSpec(type="select", options=["Positive", "Neutral", "Negative"])


def test_schemas_are_strict_objects() -> None:
    for spec in (
        SENTIMENT,
        OutputSpec(type="multi_select", options=["a", "b"]),
        OutputSpec(type="number"),
        OutputSpec(type="date"),
        OutputSpec(type="checkbox"),
    ):
        schema = answer_schema(spec)
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])
    assert answer_schema(SENTIMENT)["properties"]["value"]["enum"] == [
        "Positive",
        "Neutral",
        "Negative",
    ]
    nullable = answer_schema(OutputSpec(type="select", options=["a"], allow_none=True))
    assert {"type": "null"} in nullable["properties"]["value"]["anyOf"]
    assert "reason" in nullable["required"]


@pytest.mark.parametrize(
    ("spec", "text", "data", "expected"),
    [
        (SENTIMENT, "", {"value": " ｐｏｓｉｔｉｖｅ "}, "Positive"),
        (SENTIMENT, '{"value": "Negative"}', None, "Negative"),
        (SENTIMENT, "Neutral", None, "Neutral"),  # a server without structured output
        (SENTIMENT, 'Sure! {"value": "Neutral"}', None, "Neutral"),
        (
            OutputSpec(type="multi_select", options=["bug", "idea"]),
            "",
            {"value": ["IDEA", "bug"]},
            ["idea", "bug"],
        ),
        (OutputSpec(type="number"), "", {"value": "1,234.5"}, 1234.5),
        (OutputSpec(type="number"), "", {"value": 3}, 3),
        (OutputSpec(type="date"), "", {"value": "2024-05-01"}, "2024-05-01"),
        (OutputSpec(type="checkbox"), "", {"value": "True"}, True),
        (OutputSpec(type="text"), "  Un résumé.  ", None, "Un résumé."),
    ],
)
def test_accepts_and_normalises(spec: OutputSpec, text: str, data: Any, expected: Any) -> None:
    assert parse_answer(spec, text, data) == (expected, None)


@pytest.mark.parametrize(
    ("spec", "data", "message"),
    [
        (
            SENTIMENT,
            {"value": "Maybe"},
            "model answered 'Maybe', which is not one of: Positive, Neutral, Negative",
        ),
        (
            OutputSpec(type="multi_select", options=["a"]),
            {"value": ["a", "z"]},
            'model answered ["a", "z"], which is not one of: a',
        ),
        (
            OutputSpec(type="number"),
            {"value": "lots"},
            "model answered 'lots', which is not a number",
        ),
        (OutputSpec(type="date"), {"value": "next week"}, "which is not an ISO 8601 date"),
        (OutputSpec(type="checkbox"), {"value": "perhaps"}, "which is not true or false"),
        (SENTIMENT, {"value": None}, "model gave no value"),
    ],
)
def test_rejections_read_like_sentences(spec: OutputSpec, data: Any, message: str) -> None:
    with pytest.raises(InvalidAnswer) as info:
        parse_answer(spec, "", data)
    assert message in info.value.message


def test_none_when_allowed_keeps_the_reason() -> None:
    spec = OutputSpec(type="select", options=["Billing", "Bug"], allow_none=True)
    assert parse_answer(spec, "", {"value": None, "reason": "a thank-you note"}) == (
        None,
        "a thank-you note",
    )
    assert parse_answer(spec, "", {"value": None, "reason": None}) == (None, "no option fits")
