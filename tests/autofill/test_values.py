from __future__ import annotations

from typing import Any

import pytest

from autofill.values import MAX_TITLE_CHARS, validate_value


@pytest.mark.parametrize(
    ("kind", "value", "options", "stored"),
    [
        ("title", "Kim", None, "Kim"),
        ("text", "", None, ""),
        ("number", 0, None, 0),
        ("number", -2.5, None, -2.5),
        ("checkbox", False, None, False),
        ("date", "2024-05-01", None, "2024-05-01"),
        ("date", "2024-05-01T09:30:00Z", None, "2024-05-01T09:30:00+00:00"),
        ("date", " 2024-05-01T09:30:00+02:00 ", None, "2024-05-01T09:30:00+02:00"),
        ("url", "https://example.com/a?b=1", None, "https://example.com/a?b=1"),
        ("url", "mailto:kim@example.com", None, "mailto:kim@example.com"),
        ("select", " ｏｐｅｎ ", ["Open", "Done"], "Open"),
        ("multi_select", ["done", "Open", "DONE"], ["Open", "Done"], ["Done", "Open"]),
        ("multi_select", [], ["Open"], []),
        ("select", None, ["Open"], None),
    ],
)
def test_accepts_and_normalises(
    kind: str, value: Any, options: list[str] | None, stored: Any
) -> None:
    assert validate_value(kind, value, options) == stored


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("number", float("nan"), "finite"),
        ("number", float("inf"), "finite"),
        ("number", False, "got a boolean"),
        ("number", "1", "got a string"),
        ("checkbox", 1, "got a number"),
        ("title", "x" * (MAX_TITLE_CHARS + 1), "longer than"),
        ("date", "2024-13-01", "ISO 8601"),
        ("date", 20240501, "ISO 8601"),
        ("url", "ftp://example.com", "http(s)"),
        ("url", "example.com", "http(s)"),
        ("select", ["Open"], "got a list"),
        ("multi_select", [1], "got a number"),
    ],
)
def test_rejects_with_a_message(kind: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_value(kind, value, ["Open"])


def test_long_option_lists_are_abbreviated_in_errors() -> None:
    options = [f"o{i}" for i in range(50)]
    with pytest.raises(ValueError) as info:
        validate_value("select", "x", options)
    assert "o19, ..." in str(info.value) and "o20" not in str(info.value)
