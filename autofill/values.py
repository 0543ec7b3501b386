"""Validating a property value (or an AI cell a person writes) against its type.

Each validator takes the raw JSON value and returns what is stored, or raises ValueError with a
message a person understands. ``None`` always clears a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from autofill.text import fold

MAX_TITLE_CHARS = 2_000
MAX_TEXT_CHARS = 100_000
MAX_URL_CHARS = 2_048


def _string(value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_kind(value)}")
    if len(value) > max_chars:
        raise ValueError(f"is longer than {max_chars} characters")
    return value


def _number(value: Any) -> int | float:
    # bool is an int subclass in Python; in JSON it is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _checkbox(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_kind(value)}")
    return value


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, got {_kind(value)}")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 date (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)"
        ) from None


def _url(value: Any) -> str:
    text = _string(value, MAX_URL_CHARS).strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    if parts.scheme == "mailto" and parts.path:
        return text
    raise ValueError(f"{value!r} is not an http(s) or mailto URL")


def _select(value: Any, options: list[str]) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected one of the options, got {_kind(value)}")
    return _match_option(value, options)


def _multi_select(value: Any, options: list[str]) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of options, got {_kind(value)}")
    chosen: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected option names, got {_kind(item)}")
        option = _match_option(item, options)
        if option not in chosen:
            chosen.append(option)
    return chosen


def _match_option(value: str, options: list[str]) -> str:
    """The canonical option that ``value`` names, ignoring case, width and spacing."""
    key = fold(value)
    for option in options:
        if fold(option) == key:
            return option
    shown = ", ".join(options[:20]) + (", ..." if len(options) > 20 else "")
    raise ValueError(f"{value!r} is not one of: {shown}")


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "title": lambda v: _string(v, MAX_TITLE_CHARS),
    "text": lambda v: _string(v, MAX_TEXT_CHARS),
    "number": _number,
    "checkbox": _checkbox,
    "date": _date,
    "url": _url,
}


def validate_value(kind: str, value: Any, options: list[str] | None = None) -> Any:
    """Validate ``value`` for a property or AI output of type ``kind``; ``None`` clears."""
    if value is None:
        return None
    if kind == "select":
        return _select(value, options or [])
    if kind == "multi_select":
        return _multi_select(value, options or [])
    return _SIMPLE[kind](value)
