"""The table of language names answers as langcodes would, and spares a process langcodes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autofill.language_names import (
    TABLE,
    VARIANTS,
    build_table,
    describe,
    describe_with_langcodes,
)


def test_the_shipped_table_is_what_the_installed_langcodes_writes() -> None:
    # Upgrading langcodes (or changing the tags kept) fails here until the table is rewritten:
    # python -m autofill.language_names
    assert json.loads(TABLE.read_text(encoding="utf-8")) == build_table()


@pytest.mark.parametrize(
    "code", ["fr", "th", "ja", "ko", "zh", "hi", "ar", "he", "oc", "mr", *VARIANTS]
)
def test_every_tag_in_the_table_is_described_as_langcodes_describes_it(code: str) -> None:
    describe.cache_clear()
    assert describe(code) == describe_with_langcodes(code)


def test_the_whole_table_agrees_with_langcodes() -> None:
    describe.cache_clear()
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert len(table) > 200
    assert all(describe(code) == describe_with_langcodes(code) for code in table)


def test_a_tag_beyond_the_table_is_asked_of_langcodes() -> None:
    describe.cache_clear()
    for code in ("sr-Latn-ME", "de-CH", "haw-US"):
        assert code not in json.loads(TABLE.read_text(encoding="utf-8"))
        info = describe(code)
        assert info == describe_with_langcodes(code)
        assert info.name != code  # a real name, not the tag echoed back
    assert describe("de-CH").name == "German (Switzerland)"
    assert describe("not a tag!").name == "not a tag!"


def test_a_known_tag_does_not_load_langcodes() -> None:
    # The point of the table: a worker asking "fr" (warm-up) or any common tag holds no
    # langcodes names (19 MiB); checked in a fresh interpreter.
    script = (
        "import sys; from autofill.language_names import describe; "
        "[describe(c) for c in ('fr', 'zh-Hant', 'pt-BR', 'yue', 'th')]; "
        "print(sorted(m for m in sys.modules if m.startswith(('langcodes', 'language_data'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
