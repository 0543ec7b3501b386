"""Language coverage: does a page in a language no example is written in get its answer in that
language?

Pages (``evals/coverage/pages.yaml``): one short work note per language, in 40 languages none
of the prompt examples is written in, and 9 more in languages the examples do cover, run with
those examples removed from the prompt files (``held_out``), so that every major script is
tried without an example in its own language. Each page goes through the production path
(``prepare_for_row``, ``Completer``) for each prose task (summary, key info, custom), and the
answer's language is detected. With the prompt-sensitive simulator (``sim:mimic-1``: it
answers in the page's language only when the prompt makes it clear) the target is 100 %.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from autofill.columns import AIConfig
from autofill.config import get_settings, use_settings
from autofill.kinds import CONTENT_INPUT, Task
from autofill.language import page_language
from autofill.language_names import describe
from autofill.llm import Completer, FillFailed
from autofill.prompts import CannotPrepare, prepare_for_row, prompts_dir

PAGES = Path(__file__).resolve().parent / "coverage" / "pages.yaml"
SIM_MARK = "[sim]"
# The prose tasks, each with the request a column of that kind might carry.
TASKS: dict[Task, str | None] = {
    Task.SUMMARY: None,
    Task.KEY_INFO: "The main problem and the deadline",
    Task.CUSTOM: "One sentence on what the team should do next",
}


@dataclass(frozen=True)
class CoveragePage:
    language: str
    text: str
    held_out: bool  # the examples in its language are removed for this run


@dataclass(frozen=True)
class CoverageAnswer:
    page: CoveragePage
    task: Task
    named: str | None  # the language the request named (None: not named)
    answer: str
    answer_language: str | None
    error: str | None

    @property
    def in_page_language(self) -> bool:
        return self.error is None and self.answer_language == self.page.language


@dataclass(frozen=True)
class LanguageRow:
    language: str
    name: str
    script: str | None
    held_out: bool
    passed: int
    total: int


@dataclass(frozen=True)
class CoverageReport:
    model: str
    answers: list[CoverageAnswer]

    @property
    def share(self) -> float:
        return sum(a.in_page_language for a in self.answers) / len(self.answers)

    def languages(self) -> list[LanguageRow]:
        rows: dict[str, list[CoverageAnswer]] = {}
        for answer in self.answers:
            rows.setdefault(answer.page.language, []).append(answer)
        out = []
        for code, answers in rows.items():
            info = describe(code)
            passed = sum(a.in_page_language for a in answers)
            out.append(
                LanguageRow(
                    code, info.name, info.script, answers[0].page.held_out, passed, len(answers)
                )
            )
        return out

    def markdown(self) -> str:
        unseen = sum(1 for row in self.languages() if not row.held_out)
        lines = [
            f"## Language coverage — {self.model}",
            "",
            f"Answers in the page's language: **{self.share:.1%}** "
            f"({sum(a.in_page_language for a in self.answers)}/{len(self.answers)}), "
            f"{unseen} languages no example is written in and "
            f"{len(self.languages()) - unseen} with their examples held out; "
            f"tasks: {', '.join(t.value for t in TASKS)}.",
            "",
            "| language | script | examples | in its language |",
            "|---|---|---|---|",
        ]
        for row in self.languages():
            kind = "held out" if row.held_out else "none"
            share = f"{row.passed}/{row.total}"
            lines.append(f"| {row.name} ({row.language}) | {row.script} | {kind} | {share} |")
        failed = [a for a in self.answers if not a.in_page_language]
        if failed:
            lines += ["", "Not in the page's language:", ""]
            lines += [
                f"- {a.page.language} {a.task.value}: "
                + (a.error or f"answered in {a.answer_language}: {a.answer[:80]!r}")
                for a in failed
            ]
        return "\n".join(lines) + "\n"


def load_pages(path: Path = PAGES) -> list[CoveragePage]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        CoveragePage(code, text.strip(), group == "held_out")
        for group in ("unseen", "held_out")
        for code, text in data[group].items()
    ]


@contextmanager
def examples_held_out(language: str) -> Iterator[None]:
    """The prompt files without their examples in ``language``, installed for the block."""
    with tempfile.TemporaryDirectory(prefix="autofill-coverage-") as tmp:
        edited = Path(tmp) / "prompts"
        shutil.copytree(prompts_dir(), edited)
        for path in edited.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data["examples"] = [e for e in data["examples"] if e.get("language") != language]
            path.write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        previous = use_settings(get_settings().model_copy(update={"prompts_dir": edited}))
        try:
            yield
        finally:
            use_settings(previous)


def _ask(page: CoveragePage, task: Task, model: str, completer: Completer) -> CoverageAnswer:
    ai = AIConfig(task=task, instruction=TASKS[task], inputs=(CONTENT_INPUT,), model=model)
    try:
        prepared = prepare_for_row(ai, {}, {}, page.text, {})
    except CannotPrepare as exc:
        return CoverageAnswer(page, task, None, "", None, f"prompt cannot be built: {exc}")
    named = prepared.fitted.language
    try:
        completion = completer.complete(prepared.request)
    except FillFailed as exc:
        return CoverageAnswer(page, task, named, "", None, exc.message)
    text = str(completion.value or "")
    found = page_language(text.replace(SIM_MARK, ""))
    return CoverageAnswer(page, task, named, text, found.code if found.confident else None, None)


def run_coverage(
    model: str, completer: Completer, pages: list[CoveragePage] | None = None
) -> CoverageReport:
    answers = []
    for page in pages if pages is not None else load_pages():
        if page.held_out:
            with examples_held_out(page.language):
                answers += [_ask(page, task, model, completer) for task in TASKS]
        else:
            answers += [_ask(page, task, model, completer) for task in TASKS]
    return CoverageReport(model, answers)
