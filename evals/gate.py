"""The baseline (``evals/baseline.json``, committed) and the gate that compares a run with it.

The gate fails when
- a prompt file's version differs from the baseline's: the edit was not evaluated (run the
  evals and commit the new baseline with ``autofill evals run --accept``);
- a ``block`` case that passed in the baseline fails now;
- a language's pass rate dropped by more than the margin.
``warn`` cases that regress are reported, not fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.record import RunRecord, pass_rates

BASELINE = Path(__file__).resolve().parent / "baseline.json"
DEFAULT_MARGIN = 0.05


def build_baseline(record: RunRecord) -> dict[str, Any]:
    rates = pass_rates(record.results, "language")
    return {
        "note": (
            "Accepted eval verdicts per case. Made with the LLM simulator (model sim-*): no "
            "provider is reachable where it was built; with a key, `autofill evals run "
            "--model M --accept` makes a real one."
            if record.simulated
            else "Accepted eval verdicts per case."
        ),
        "run_id": record.run_id,
        "model": record.model,
        "judge_model": record.judge_model,
        "simulated": record.simulated,
        "prompts": record.prompts,
        "pass_rates": {lang: round(p / t, 4) for lang, (p, t) in rates.items()},
        "cases": {
            r.case.id: {
                "task": r.case.task,
                "language": r.case.answer_language,
                "severity": r.case.severity,
                "passed": r.passed,
                "prompt_version": r.prompt_version,
                "answer": r.samples[0].value if r.samples else None,
            }
            for r in record.results
        },
    }


def save_baseline(baseline: dict[str, Any], path: Path = BASELINE) -> None:
    path.write_text(json.dumps(baseline, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_baseline(path: Path = BASELINE) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no baseline at {path}: run `autofill evals run --accept`") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "cases" not in data or "prompts" not in data:
        raise ValueError(f"{path} is not an evals baseline")
    return data


@dataclass
class GateResult:
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        out = ["## Gate: " + ("passed" if self.passed else "FAILED"), ""]
        out += [f"- ✘ {failure}" for failure in self.failures]
        out += [f"- ⚠ {warning}" for warning in self.warnings]
        return out


def compare(
    baseline: dict[str, Any], record: RunRecord, margin: float = DEFAULT_MARGIN
) -> GateResult:
    gate = GateResult()
    for task, version in sorted(record.prompts.items()):
        accepted = baseline["prompts"].get(task)
        if accepted != version:
            gate.failures.append(
                f"prompts/{task}.yaml is version {version}, the baseline has {accepted}: "
                "the edit was not evaluated; run `autofill evals run --accept` and commit "
                "evals/baseline.json"
            )
    accepted_cases: dict[str, Any] = baseline["cases"]
    for result in record.results:
        before = accepted_cases.get(result.case.id)
        if before is None:
            gate.warnings.append(f"case {result.case.id} is not in the baseline yet")
            continue
        if before["passed"] and not result.passed:
            reasons = "; ".join(
                f"{c.check}: {c.reason}" for s in result.samples for c in s.checks if not c.passed
            )[:300]
            where = f"{result.case.task}, {result.case.answer_language}"
            message = (
                f"case {result.case.id} ({where}) passed in the baseline and fails now: {reasons}"
            )
            (gate.failures if result.case.severity == "block" else gate.warnings).append(message)
    now = {lang: p / t for lang, (p, t) in pass_rates(record.results, "language").items()}
    for language, rate in sorted(baseline.get("pass_rates", {}).items()):
        if language in now and now[language] < rate - margin:
            gate.failures.append(
                f"language {language}: pass rate {now[language]:.0%} is below the baseline's "
                f"{rate:.0%} by more than {margin:.0%}"
            )
    return gate
