from __future__ import annotations

from pathlib import Path

import pytest

from autofill.kinds import PromptTask
from autofill.prompts.library import PromptLoadError, load_file, load_prompt, prompts_dir

REQUIRED_LANGUAGES = {"en", "fr", "de", "es", "ja", "ko", "zh", "ar"}


@pytest.mark.parametrize("task", PromptTask)
def test_every_prompt_file_loads_and_covers_the_languages(task: str) -> None:
    loaded = load_prompt(task)  # type: ignore[arg-type]
    examples = loaded.prompt.examples
    assert {e.language for e in examples} >= REQUIRED_LANGUAGES, task
    tags = {tag for e in examples for tag in e.tags}
    assert "injection" in tags
    if task != "custom_typed":
        assert "empty" in tags
    assert len(loaded.file_hash) == 64


def test_edge_cases_the_issue_lists_are_covered() -> None:
    tags = {t: {tag for e in load_prompt(t).prompt.examples for tag in e.tags} for t in PromptTask}
    assert {"one-line", "bulleted", "mixed", "empty", "injection"} <= tags[PromptTask.SUMMARY]
    assert "already-target" in tags[PromptTask.TRANSLATE]
    assert "none" in tags[PromptTask.CLASSIFY]


def test_no_stray_files() -> None:
    assert sorted(p.stem for p in prompts_dir().glob("*.yaml")) == sorted(PromptTask)


HEAD = "description: x\ninstruction: a long enough instruction here\nrules: [a]\n"
EXAMPLE = "examples:\n  - {id: a, language: en, content: x, answer: y"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "task: summary\ndescription: x\ninstruction: short\nrules: [a]\nexamples: []\n",
            "field instruction",
        ),
        ("task: summary\n" + HEAD + EXAMPLE + ", colour: red}\n", "field examples.0.colour"),
        ("task: classify\n" + HEAD + EXAMPLE + "}\n", "needs `options`"),
        (
            "task: summary\n" + HEAD + EXAMPLE.replace("en,", "english,") + "}\n",
            "field examples.0.language",
        ),
        ("task: [unclosed\n", "not valid YAML"),
        ("task: key_info\n" + HEAD + EXAMPLE + ", request: r}\n", "file is named 'summary'"),
    ],
)
def test_invalid_files_name_the_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "summary.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptLoadError) as info:
        load_file(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_edits_are_picked_up(tmp_path: Path) -> None:
    source = (prompts_dir() / "summary.yaml").read_text(encoding="utf-8")
    (tmp_path / "summary.yaml").write_text(source, encoding="utf-8")
    before = load_prompt(PromptTask.SUMMARY, tmp_path).file_hash
    (tmp_path / "summary.yaml").write_text(source + "\n# edited\n", encoding="utf-8")
    import os

    os.utime(tmp_path / "summary.yaml", ns=(1, 10**18))
    assert load_prompt(PromptTask.SUMMARY, tmp_path).file_hash != before
