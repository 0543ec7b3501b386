"""Language coverage with the prompt-sensitive simulator: every page in a language no example
is written in (40 of them, and 9 whose examples are held out) is answered in its language.

Before the request named the page's language, ``sim:mimic-1`` answered such pages in English
(it answers in a language only when the prompt makes it clear)."""

from __future__ import annotations

import pytest

from autofill.language_names import describe
from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from evals.coverage import load_pages, run_coverage

MIMIC = "sim:mimic-1"
SCRIPTS = {"Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Devanagari", "Thai", "Han"}
SCRIPTS |= {"Kana", "Hangul"}


@pytest.fixture(autouse=True)
def _simulator(sim: Simulator) -> None:
    """sim: models answered by the test's simulator (the sim fixture configures it)."""


def test_the_pages_cover_30_unseen_languages_and_every_major_script() -> None:
    pages = load_pages()
    unseen = {p.language for p in pages if not p.held_out}
    assert len(unseen) >= 30
    scripts = {describe(p.language).script for p in pages}
    assert scripts >= SCRIPTS
    from autofill.kinds import PromptTask
    from autofill.prompts import load_prompt

    example_languages = {e.language for t in PromptTask for e in load_prompt(t).prompt.examples}
    assert not unseen & example_languages


def test_every_page_is_answered_in_its_language() -> None:
    completer = Completer(limiter=RateLimiter({}, None), timeout_s=30.0)
    report = run_coverage(MIMIC, completer)
    assert report.share == 1.0, report.markdown()
    assert all(a.named == a.page.language for a in report.answers)
    table = report.markdown()
    assert "| Thai (th) | Thai | held out | 3/3 |" in table
    assert "| Lao (lo) | Lao | none | 3/3 |" in table
