"""The case files: enough of them, in many languages, covering the prompts' edge cases
without copying the prompts' own examples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from autofill.kinds import PromptTask
from autofill.prompts.library import load_prompt
from evals.cases_schema import CaseLoadError, load_cases


def test_at_least_sixty_handwritten_cases_across_tasks_and_languages() -> None:
    cases = load_cases()
    handwritten = [c for c in cases if c.source.kind == "handwritten"]
    assert len(handwritten) >= 60
    assert set(Counter(c.task for c in cases)) == set(PromptTask)
    languages = {c.answer_language for c in cases}
    assert {"en", "fr", "de", "es", "ja", "ko", "zh", "ar"} <= languages
    assert languages - {e.language for t in PromptTask for e in load_prompt(t).prompt.examples}, (
        "some cases are in languages no example shows"
    )


EDGE_TAGS = {
    "empty",
    "one-line",
    "bulleted",
    "mixed",
    "injection",
    "none",
    "absent",
    "already-target",
}


@pytest.mark.parametrize("task", PromptTask)
def test_every_edge_case_a_prompt_example_covers_has_a_case(task: PromptTask) -> None:
    examples = load_prompt(task).prompt.examples
    example_edges = {tag for example in examples for tag in example.tags} & EDGE_TAGS
    case_edges = {tag for case in load_cases(task=task) for tag in case.tags}
    assert example_edges <= case_edges, example_edges - case_edges


def test_no_case_copies_a_prompt_example() -> None:
    examples = {
        (e.content or "").strip()
        for task in PromptTask
        for e in load_prompt(task).prompt.examples
        if (e.content or "").strip()
    }
    for case in load_cases():
        assert (case.content or "").strip() not in examples, case.id


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "cases: [{id: a, task: summary, language: en}]",
            "case a field (case): a case needs content",
        ),
        ("cases: [{id: b, task: translate, language: en, content: x}]", "needs target_language"),
        (
            "cases: [{id: c, task: summary, language: en, content: x, checks: {vibes: 1}}]",
            "unknown check(s): vibes",
        ),
        ("cases: [{id: d, task: classify, language: en, content: x}]", "select or multi_select"),
        ("cases: [{id: E, task: summary, language: en, content: x}]", "case E field id"),
        (
            "cases: [{id: f, task: summary, language: en, content: x, checks: {equals: true}}]",
            "needs a reference",
        ),
        (
            "cases: [{id: g, task: summary, language: en, content: x,"
            " source: {kind: user_shared}}]",
            "consent",
        ),
        ("cases: [", "cannot read"),
    ],
)
def test_a_bad_case_file_names_the_case_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(CaseLoadError) as error:
        load_cases(_write(tmp_path, text))
    assert "broken.yaml" in str(error.value)
    assert fragment in str(error.value)


def test_case_ids_are_unique(tmp_path: Path) -> None:
    case = "{id: same, task: summary, language: en, content: x}"
    (tmp_path / "one.yaml").write_text(f"cases: [{case}]")
    (tmp_path / "two.yaml").write_text(f"cases: [{case}]")
    with pytest.raises(CaseLoadError, match="repeated: same"):
        load_cases(tmp_path)
