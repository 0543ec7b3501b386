"""The baseline (``evals/baseline.json``, committed), accepting a run as the new one, and the gate
that compares a run with it.

**Accepting is a decision.** ``accept`` refuses (and nothing is written) when

- any sample got no answer (no provider key, the provider down): a baseline of errors is not a
  baseline;
- a ``block`` case fails and is not waived: fix the prompt or the case, or waive it by id with
  the reason (``--waive CASE=REASON``). A waiver is kept in the baseline and shown by the gate
  while the case fails; when it passes again, the next accept drops it.

A case may also be quarantined (``--quarantine CASE=REASON``): it runs and is reported, but does
not gate (for a case known to be flaky until it is fixed).

**The gate fails** when

- a prompt file's version differs from the baseline's (the edit was not evaluated), or the run's
  answer model is not the baseline's (verdicts of two models do not compare);
- a ``block`` case regressed. With one sample on each side (the deterministic simulator), a case
  that passed and fails now regressed. With more samples (``--samples K``), the per-case pass
  counts are compared with Fisher's exact test, one-sided (is the pass rate now lower?): a
  regression is one with p < ``ALPHA``; a lower rate that the test cannot tell from noise is
  reported, not fatal. Cases that pass in some samples only are reported apart as flaky;
- a language's pass rate dropped by more than the margin (with samples, only when the drop of
  its pooled sample pass count is significant by the same test).

``warn`` cases that regress are reported, not fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from evals.record import RunRecord, failures, pass_rates
from evals.runner import CaseResult

BASELINE = Path(__file__).resolve().parent / "baseline.json"
DEFAULT_MARGIN = 0.05
ALPHA = 0.05


class AcceptRefused(Exception):
    """The run cannot become the baseline; ``reasons`` says why, one line each."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


def _passes(result: CaseResult) -> int:
    return sum(sample.passed for sample in result.samples)


def build_baseline(
    record: RunRecord,
    waivers: dict[str, str] | None = None,
    quarantine: dict[str, str] | None = None,
) -> dict[str, Any]:
    rates = pass_rates(record.results, "language")
    return {
        "note": (
            "Accepted eval verdicts per case. Answers from the LLM simulator (no provider was "
            "reachable where it was made); with a key, `autofill evals run --model M "
            "--judge-model J --accept` makes a real one."
            if record.model_simulated
            else "Accepted eval verdicts per case."
        ),
        "run_id": record.run_id,
        "model": record.model,
        "model_simulated": record.model_simulated,
        "judge_model": record.judge_model,
        "judge_simulated": record.judge_simulated,
        "simulated": record.simulated,
        "verdict_source": record.verdict_source(),
        "prompts": record.prompts,
        "pass_rates": {lang: round(p / t, 4) for lang, (p, t) in rates.items()},
        "waivers": dict(sorted((waivers or {}).items())),
        "quarantine": dict(sorted((quarantine or {}).items())),
        "cases": {
            r.case.id: {
                "task": r.case.task,
                "language": r.case.answer_language,
                "severity": r.case.severity,
                "passed": r.passed,
                "passes": _passes(r),
                "samples": len(r.samples),
                "prompt_version": r.prompt_version,
                "answer": r.samples[0].value if r.samples else None,
            }
            for r in record.results
        },
    }


def accept(
    record: RunRecord,
    previous: dict[str, Any] | None,
    waive: dict[str, str] | None = None,
    quarantine: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The baseline ``record`` makes, or AcceptRefused saying why it cannot be one."""
    reasons: list[str] = []
    errors = record.errors()
    if errors:
        shown = "; ".join(f"{case}: {error}" for case, error in errors[:3])
        reasons.append(
            f"{len(errors)} of {sum(len(r.samples) for r in record.results)} samples got no "
            f"answer ({shown}): a baseline must be made of answers"
        )
    previous = previous or {}
    waivers = {**previous.get("waivers", {}), **(waive or {})}
    quarantined = {**previous.get("quarantine", {}), **(quarantine or {})}
    ids = {r.case.id for r in record.results}
    for unknown in sorted((set(waive or {}) | set(quarantine or {})) - ids):
        reasons.append(f"no case {unknown!r} in this run: nothing to waive or quarantine")
    still_failing = {r.case.id for r in record.results if not r.passed}
    before = previous.get("cases", {})
    for result in record.results:
        case = result.case
        if case.severity != "block" or result.passed or case.id in quarantined:
            continue
        if case.id in waivers:
            continue
        was = before.get(case.id, {})
        history = "passed in the baseline and " if was.get("passed") else ""
        reasons.append(
            f"block case {case.id} {history}fails: {'; '.join(failures(result)[:2])}. Fix the "
            f"prompt or the case, or waive it: --waive {case.id}=REASON"
        )
    if reasons:
        raise AcceptRefused(reasons)
    # A waiver lasts while its case fails; a case that passes again needs none.
    kept = {cid: why for cid, why in waivers.items() if cid in still_failing}
    return build_baseline(record, kept, {c: w for c, w in quarantined.items() if c in ids})


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


def baseline_judge(baseline: dict[str, Any]) -> str | None:
    found = baseline.get("judge_model")
    return str(found) if found else None


def fewer_passes_p(
    passes_now: int, samples_now: int, passes_before: int, samples_before: int
) -> float:
    """One-sided Fisher's exact test: the probability, were both pass rates the same, of a run
    with ``passes_now`` or fewer passes among ``samples_now`` given both runs' total passes."""
    total = samples_now + samples_before
    passes = passes_now + passes_before
    denominator = comb(total, samples_now)
    low = max(0, samples_now - (total - passes))
    return (
        sum(
            comb(passes, x) * comb(total - passes, samples_now - x)
            for x in range(low, passes_now + 1)
        )
        / denominator
    )


@dataclass
class GateResult:
    verdict_source: str = ""
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    waived: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        out = [self.verdict_source, "", "## Gate: " + ("passed" if self.passed else "FAILED"), ""]
        out += [f"- ✘ {failure}" for failure in self.failures]
        out += [f"- ⚠ {warning}" for warning in self.warnings]
        for title, items in (
            ("Waived (known failures, each with its reason)", self.waived),
            ("Flaky (passing in some samples only)", self.flaky),
            ("Quarantined (run, not gating)", self.quarantined),
        ):
            if items:
                out += ["", f"### {title}", "", *[f"- {item}" for item in items]]
        return out


def compare(
    baseline: dict[str, Any], record: RunRecord, margin: float = DEFAULT_MARGIN
) -> GateResult:
    gate = GateResult(verdict_source=record.verdict_source())
    for task, version in sorted(record.prompts.items()):
        accepted = baseline["prompts"].get(task)
        if accepted != version:
            gate.failures.append(
                f"prompts/{task}.yaml is version {version}, the baseline has {accepted}: "
                "the edit was not evaluated; run `autofill evals run --accept` and commit "
                "evals/baseline.json"
            )
    if baseline.get("model") and baseline["model"] != record.model:
        gate.failures.append(
            f"the baseline's answers are by {baseline['model']}, this run's by {record.model}: "
            f"verdicts of two models do not compare; make a baseline with {record.model} "
            f"(`autofill evals run --model {record.model} --accept`)"
        )
    accepted_cases: dict[str, Any] = baseline["cases"]
    waivers: dict[str, str] = baseline.get("waivers", {})
    quarantine: dict[str, str] = baseline.get("quarantine", {})
    for result in record.results:
        case = result.case
        passes, samples = _passes(result), len(result.samples)
        if 0 < passes < samples:
            gate.flaky.append(f"{case.id}: passed {passes} of {samples} samples")
        if case.id in quarantine:
            verdict = "passes" if result.passed else "fails"
            gate.quarantined.append(f"{case.id} ({verdict}): {quarantine[case.id]}")
            continue
        if case.id in waivers:
            state = "still fails" if not result.passed else "passes again (accept drops it)"
            gate.waived.append(f"{case.id} {state}: {waivers[case.id]}")
            continue
        before = accepted_cases.get(case.id)
        if before is None:
            gate.warnings.append(f"case {case.id} is not in the baseline yet")
            continue
        regression = _regression(before, passes, samples)
        if regression is None:
            continue
        where = f"{case.task}, {case.answer_language}"
        reasons = "; ".join(failures(result))[:300]
        message = f"case {case.id} ({where}) {regression}: {reasons}"
        significant = not regression.startswith("passes less often")
        target = gate.failures if case.severity == "block" and significant else gate.warnings
        target.append(message)
    # Languages' rates over the cases that gate: not the quarantined, not the waived.
    excluded = set(quarantine) | set(waivers)
    gating = [r for r in record.results if r.case.id not in excluded]
    now = {lang: p / t for lang, (p, t) in pass_rates(gating, "language").items()}
    sampled = _pooled_samples(gating, accepted_cases)
    then: dict[str, list[int]] = {}
    for case_id, entry in accepted_cases.items():
        if case_id not in excluded:
            counts = then.setdefault(str(entry.get("language")), [0, 0])
            counts[0] += bool(entry.get("passed"))
            counts[1] += 1
    rates = {lang: p / t for lang, (p, t) in then.items()}
    for language, rate in sorted(rates.items()):
        if language not in now or now[language] >= rate - margin:
            continue
        message = (
            f"language {language}: pass rate {now[language]:.0%} is below the baseline's "
            f"{rate:.0%} by more than {margin:.0%}"
        )
        pooled = sampled.get(language)
        if pooled is not None:  # with samples, only a drop the test tells from noise fails
            p = fewer_passes_p(*pooled)
            if p >= ALPHA:
                gate.warnings.append(f"{message} (samples: p = {p:.2f}, not told from noise)")
                continue
            message += f" (samples: Fisher's exact test, one-sided, p = {p:.3f})"
        gate.failures.append(message)
    return gate


def _pooled_samples(
    results: list[CaseResult], accepted: dict[str, Any]
) -> dict[str, tuple[int, int, int, int]]:
    """Per answer language, (passes now, samples now, passes then, samples then) over the
    samples of both runs, when either ran more than one sample of a case; else empty."""
    if all(len(r.samples) <= 1 for r in results) and all(
        int(c.get("samples", 1)) <= 1 for c in accepted.values()
    ):
        return {}
    pooled: dict[str, list[int]] = {}
    for result in results:
        before = accepted.get(result.case.id)
        if before is None:
            continue
        counts = pooled.setdefault(result.case.answer_language, [0, 0, 0, 0])
        counts[0] += _passes(result)
        counts[1] += len(result.samples)
        counts[2] += int(before.get("passes", 1 if before.get("passed") else 0))
        counts[3] += int(before.get("samples", 1))
    return {lang: (c[0], c[1], c[2], c[3]) for lang, c in pooled.items()}


def _regression(before: dict[str, Any], passes: int, samples: int) -> str | None:
    """How the case regressed against its baseline entry, or None if it did not."""
    before_samples = int(before.get("samples", 1))
    before_passes = int(before.get("passes", 1 if before.get("passed") else 0))
    if samples == 0 or passes * before_samples >= before_passes * samples:
        return None  # as often as before, or more
    if samples == 1 and before_samples == 1:
        return "passed in the baseline and fails now"
    p = fewer_passes_p(passes, samples, before_passes, before_samples)
    rates = f"{passes}/{samples} now, {before_passes}/{before_samples} in the baseline"
    if p < ALPHA:
        return f"regressed ({rates}; Fisher's exact test, one-sided, p = {p:.3f})"
    return f"passes less often ({rates}; p = {p:.2f}, not told apart from noise)"


def comparison(baseline: dict[str, Any], record: RunRecord) -> list[str]:
    """A before/after comparison fit to paste into a pull request: the verdicts that changed
    first, then passed/total per task and language, before → now."""
    accepted: dict[str, Any] = baseline["cases"]
    lines = [
        "## Before → after",
        "",
        f"Baseline {baseline.get('run_id', '?')} ({baseline.get('model')}) → this run "
        f"{record.run_id} ({record.model}).",
        "",
    ]
    changed = []
    for result in record.results:
        before = accepted.get(result.case.id)
        then = "new" if before is None else ("pass" if before.get("passed") else "fail")
        now = "pass" if result.passed else "fail"
        if then != now:
            why = "; ".join(failures(result))[:160] if not result.passed else ""
            changed.append(
                f"| `{result.case.id}` | {result.case.task} | {result.case.answer_language} "
                f"| {then} | **{now}** | {why.replace('|', '/')} |"
            )
    if changed:
        lines += [
            "### Changed verdicts",
            "",
            "| case | task | language | before | now | why |",
            "| --- | --- | --- | --- | --- | --- |",
            *changed,
            "",
        ]
    else:
        lines += ["No verdict changed.", ""]
    groups: dict[tuple[str, str], list[int]] = {}
    for result in record.results:
        key = (result.case.task, result.case.answer_language)
        counts = groups.setdefault(key, [0, 0, 0, 0])
        before = accepted.get(result.case.id, {})
        counts[0] += bool(before.get("passed"))
        counts[1] += int(result.case.id in accepted)
        counts[2] += result.passed
        counts[3] += 1
    lines += ["### Per task and language", "", "| task | language | before | now |"]
    lines.append("| --- | --- | --- | --- |")
    for (task, language), (p0, t0, p1, t1) in sorted(groups.items()):
        mark = (
            " ▼" if t0 and t1 and p1 / t1 < p0 / t0 else (" ▲" if t0 and p1 / t1 > p0 / t0 else "")
        )
        lines.append(f"| {task} | {language} | {p0}/{t0} | {p1}/{t1}{mark} |")
    return lines
