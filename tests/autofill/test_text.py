from __future__ import annotations

import pytest

from autofill.text import MAX_OPTIONS, clean_label, clean_options, fold


def test_fold_equates_case_width_and_spacing() -> None:
    assert fold("  Ｓｔａｔｕｓ  Open ") == fold("status open")
    assert fold("e\u0301te\u0301") == fold("été")


def test_clean_label() -> None:
    assert clean_label("  e\u0301  ", max_chars=10, what="x") == "é"
    for bad, message in [("   ", "empty"), ("a\x07b", "control"), ("x" * 11, "longer")]:
        with pytest.raises(ValueError, match=message):
            clean_label(bad, max_chars=10, what="x")


def test_clean_options() -> None:
    assert clean_options([" A ", "b"]) == ["A", "b"]
    with pytest.raises(ValueError, match="twice"):
        clean_options(["Open", "ＯＰＥＮ"])
    with pytest.raises(ValueError, match="empty"):
        clean_options([])
    with pytest.raises(ValueError, match=f"at most {MAX_OPTIONS}"):
        clean_options([str(i) for i in range(MAX_OPTIONS + 1)])
