"""A run's record (JSONL), its reports (Markdown for CI logs, HTML to open) and its summary."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autofill.kinds import PromptTask
from autofill.prompts import load_prompt
from evals.judges import is_simulated, judges_file
from evals.runner import CaseResult


def prompt_versions() -> dict[str, str]:
    """Each prompt file's version: the hash of its bytes (any edit changes it)."""
    return {task: load_prompt(task).file_hash[:16] for task in PromptTask}


@dataclass
class RunRecord:
    run_id: str
    model: str
    simulated: bool
    started_at: str
    prompts: dict[str, str]
    results: list[CaseResult]
    judge_model: str | None = None

    @classmethod
    def new(
        cls, model: str, results: list[CaseResult], judge_model: str | None = None
    ) -> RunRecord:
        now = datetime.now(UTC)
        return cls(
            run_id=now.strftime("%Y%m%dT%H%M%SZ"),
            model=model,
            simulated=model.startswith("sim:") or (judge_model or "").startswith("sim:"),
            started_at=now.isoformat(),
            prompts=prompt_versions(),
            results=results,
            judge_model=judge_model,
        )

    @property
    def model_simulated(self) -> bool:
        return is_simulated(self.model)

    @property
    def judge_simulated(self) -> bool:
        return self.judge_model is not None and is_simulated(self.judge_model)

    def verdict_source(self) -> str:
        """One line: whether the verdicts came from a real model, a simulated one, or both."""
        answers = f"{self.model} ({'simulated' if self.model_simulated else 'real'})"
        if self.judge_model is None:
            judges = "no judge: model-graded checks not judged"
        elif self.judge_simulated:
            judges = f"judge {self.judge_model} is simulated: model-graded checks not judged"
        else:
            judges = f"judge {self.judge_model} (real)"
        kinds = {self.model_simulated} | ({self.judge_simulated} if self.judge_model else set())
        source = (
            "a simulated model"
            if kinds == {True}
            else "a real model"
            if kinds == {False}
            else "real and simulated models"
        )
        return f"Verdicts from {source}: answers by {answers}; {judges}."

    def errors(self) -> list[tuple[str, str]]:
        """(case id, error) for every sample that got no answer (no key, provider down)."""
        return [
            (r.case.id, s.error) for r in self.results for s in r.samples if s.error is not None
        ]

    def pairwise(self) -> dict[str, int]:
        counts = {"win": 0, "loss": 0, "tie": 0}
        for result in self.results:
            if result.pairwise is not None:
                counts[result.pairwise] += 1
        return counts

    def header(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "model": self.model,
            "judge_model": self.judge_model,
            "judges": {j.id: j.version for j in judges_file().judges} if self.judge_model else {},
            "simulated": self.simulated,
            "model_simulated": self.model_simulated,
            "judge_simulated": self.judge_simulated,
            "verdict_source": self.verdict_source(),
            "started_at": self.started_at,
            "prompts": self.prompts,
            "cases": len(self.results),
            "passed": sum(r.passed for r in self.results),
            "tokens_in": sum(s.tokens_in for r in self.results for s in r.samples),
            "tokens_out": sum(s.tokens_out for r in self.results for s in r.samples),
            "cost_usd": round(sum(s.cost_usd for r in self.results for s in r.samples), 6),
            "cache_hits": sum(s.from_cache for r in self.results for s in r.samples),
            # What the cached answers cost when they were first asked: what this run saved.
            "cache_saved_usd": round(
                sum(s.cost_usd for r in self.results for s in r.samples if s.from_cache), 6
            ),
            "spent_usd": round(
                sum(s.cost_usd for r in self.results for s in r.samples if not s.from_cache), 6
            ),
            "errors": len(self.errors()),
            "not_judged": sum(
                1 for r in self.results for s in r.samples for c in s.checks if not c.judged
            ),
            "samples": sum(len(r.samples) for r in self.results),
            "pairwise_vs_baseline": self.pairwise(),
        }


def case_line(result: CaseResult) -> dict[str, Any]:
    case = result.case
    return {
        "id": case.id,
        "task": case.task,
        "language": case.language,
        "answer_language": case.answer_language,
        "severity": case.severity,
        "tags": case.tags,
        "source": case.source.model_dump(),
        "prompt_version": result.prompt_version,
        "examples": result.examples,
        "page_language": result.page_language,
        "truncated": result.truncated,
        "input_tokens": result.input_tokens,
        "passed": result.passed,
        "pass_share": round(result.pass_share, 4),
        "pairwise_vs_baseline": result.pairwise,
        "samples": [
            {
                **{k: v for k, v in asdict(s).items() if k != "checks"},
                "checks": [asdict(c) for c in s.checks],
            }
            for s in result.samples
        ],
    }


def write(record: RunRecord, directory: Path) -> dict[str, Path]:
    """Write ``<run>.jsonl``, ``<run>.md`` and ``<run>.html``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    # The model's whole name (gpt-4.1-mini keeps its dots: no with_suffix, which cuts at one).
    stem = f"{record.run_id}-{re.sub(r'[^A-Za-z0-9_.-]', '_', record.model)}"
    paths = {kind: directory / f"{stem}.{kind}" for kind in ("jsonl", "md", "html")}
    with paths["jsonl"].open("w", encoding="utf-8") as out:
        out.write(json.dumps({"run": record.header()}, ensure_ascii=False) + "\n")
        for result in record.results:
            out.write(json.dumps(case_line(result), ensure_ascii=False) + "\n")
    paths["md"].write_text(markdown(record), encoding="utf-8")
    paths["html"].write_text(html_report(record), encoding="utf-8")
    return paths


def pass_rates(results: list[CaseResult], key: str) -> dict[str, tuple[int, int]]:
    """(passed, total) per task or per answer language."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        group = result.case.task if key == "task" else result.case.answer_language
        counts[group][0] += result.passed
        counts[group][1] += 1
    return {group: (passed, total) for group, (passed, total) in sorted(counts.items())}


def failures(result: CaseResult) -> list[str]:
    """What failed in a case, each message once however many samples failed it."""
    found: dict[str, None] = {}
    for sample in result.samples:
        if sample.error is not None:
            found[f"no answer: {sample.error}"] = None
        for check in sample.checks:
            if not check.passed and check.check != "answered":
                found[f"{check.check}: {check.reason}"] = None
    return list(found)


def markdown(record: RunRecord, extra: list[str] | None = None) -> str:
    header = record.header()
    lines = [
        f"# Eval run {record.run_id}",
        "",
        record.verdict_source(),
        "",
        f"{header['passed']}/{header['cases']} cases passed; {header['samples']} samples, "
        f"{header['cache_hits']} from cache; {header['tokens_in']:,} tokens in, "
        f"{header['tokens_out']:,} out; spent ${header['spent_usd']:.4f}, the cache saved "
        f"${header['cache_saved_usd']:.4f}."
        + (f" **{header['errors']} samples got no answer.**" if header["errors"] else ""),
        f"Judge model: `{record.judge_model or 'none'}`. Against the baseline's answers "
        f"(pairwise, both orders): {header['pairwise_vs_baseline']}.",
        "",
        "| task | passed | | language | passed |",
        "| --- | --- | --- | --- | --- |",
    ]
    tasks = list(pass_rates(record.results, "task").items())
    languages = list(pass_rates(record.results, "language").items())
    for index in range(max(len(tasks), len(languages))):
        task = (
            f"{tasks[index][0]} | {tasks[index][1][0]}/{tasks[index][1][1]}"
            if index < len(tasks)
            else " | "
        )
        language = (
            f"{languages[index][0]} | {languages[index][1][0]}/{languages[index][1][1]}"
            if index < len(languages)
            else " | "
        )
        lines.append(f"| {task} | | {language} |")
    failed = [r for r in record.results if not r.passed]
    if failed:
        lines += ["", "## Failing cases", ""]
        for result in failed:
            lines.append(
                f"- `{result.case.id}` ({result.case.severity}): " + "; ".join(failures(result)[:3])
            )
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"


def html_report(record: RunRecord) -> str:
    header = record.header()
    rows = []
    for result in record.results:
        sample = result.samples[0] if result.samples else None
        answer = (
            "" if sample is None else (sample.error or json.dumps(sample.value, ensure_ascii=False))
        )
        checks = "<br>".join(
            f"{'✔' if c.passed else '✘'} {html.escape(c.check)}: {html.escape(c.reason)}"
            for c in (sample.checks if sample else [])
        )
        rows.append(
            f"<tr class='{'pass' if result.passed else 'fail'}'>"
            f"<td>{html.escape(result.case.id)}</td><td>{html.escape(result.case.task)}</td>"
            f"<td>{html.escape(result.case.answer_language)}</td>"
            f"<td>{html.escape(result.case.severity)}</td>"
            f"<td>{'pass' if result.passed else 'FAIL'}</td>"
            f"<td lang='{html.escape(result.case.answer_language)}'>{html.escape(answer)}</td>"
            f"<td>{checks}</td></tr>"
        )
    simulated = " — simulated (LLM simulator)" if record.simulated else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Eval run {record.run_id}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: .35rem .5rem; vertical-align: top; font-size: .9rem; }}
tr.fail td:nth-child(5) {{ color: #b00020; font-weight: bold; }}
tr.pass td:nth-child(5) {{ color: #1b5e20; }}
</style></head><body>
<h1>Eval run {record.run_id}</h1>
<p>Model <code>{html.escape(record.model)}</code>{simulated}. {header["passed"]}/{header["cases"]}
cases passed; {header["tokens_in"]:,} tokens in, {header["tokens_out"]:,} out,
${header["cost_usd"]:.4f}; {header["cache_hits"]} of {header["samples"]} answers from cache.</p>
<table><thead><tr><th>case</th><th>task</th><th>language</th><th>severity</th><th>verdict</th>
<th>answer</th><th>checks</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table></body></html>
"""
