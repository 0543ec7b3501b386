"""Normalising the names and labels people type, so equal-looking strings compare equal."""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 200
MAX_OPTION_CHARS = 100
MAX_OPTIONS = 500


def fold(value: str) -> str:
    """The comparison key: NFKC (full-width → ASCII), case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def has_control_chars(value: str) -> bool:
    # Cc covers NUL and the C0/C1 controls; Cs are lone surrogates, which no database can store.
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def clean_label(value: str, *, max_chars: int, what: str) -> str:
    """Strip and NFC-normalise a name or option; raise ValueError with a message for people."""
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not cleaned:
        raise ValueError(f"{what} must not be empty")
    if len(cleaned) > max_chars:
        raise ValueError(f"{what} is longer than {max_chars} characters")
    if has_control_chars(cleaned):
        raise ValueError(f"{what} must not contain control characters")
    return cleaned


def clean_options(values: list[str], *, what: str = "options") -> list[str]:
    """Validate an option list: non-empty, bounded, and no two options that fold to the same key."""
    if not values:
        raise ValueError(f"{what} must not be empty")
    if len(values) > MAX_OPTIONS:
        raise ValueError(f"{what} has {len(values)} entries; at most {MAX_OPTIONS} are allowed")
    cleaned: list[str] = []
    seen: dict[str, str] = {}
    for raw in values:
        option = clean_label(raw, max_chars=MAX_OPTION_CHARS, what="an option")
        key = fold(option)
        if key in seen:
            raise ValueError(f"{what} lists {option!r} twice (same as {seen[key]!r})")
        seen[key] = option
        cleaned.append(option)
    return cleaned
