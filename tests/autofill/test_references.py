from __future__ import annotations

from autofill.references import find_references, rename_reference
from autofill.text import fold


def test_finds_references_in_order_without_duplicates() -> None:
    assert find_references("Given {Status} and { Notes }, then {Status}") == ["Status", "Notes"]


def test_escapes_and_lone_braces_are_text() -> None:
    assert find_references('Answer {{"ok": {Flag}}} now') == ["Flag"]
    assert find_references("{{Status}}") == []
    assert find_references("a { b") == []
    assert find_references("{}") == []
    assert find_references("{multi\nline}") == []


def test_unicode_names() -> None:
    assert find_references("要約: {ステータス} / {État}") == ["ステータス", "État"]


def test_rename_touches_only_matching_references() -> None:
    text = "From {status} and {{Status}} and {Other}"
    assert (
        rename_reference(text, fold("Status"), "Stage") == "From {Stage} and {{Status}} and {Other}"
    )
