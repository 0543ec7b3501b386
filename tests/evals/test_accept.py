"""Accepting a run is a decision: errors and unwaived block failures are refused, waivers and
quarantine are kept and shown; the gate separates a regression from noise when there are
samples, and says where its verdicts came from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from evals.cache import DiskCache
from evals.cases_schema import Case, load_cases
from evals.gate import (
    BASELINE,
    AcceptRefused,
    accept,
    build_baseline,
    compare,
    comparison,
    fewer_passes_p,
)
from evals.judges import Judging
from evals.record import RunRecord, write
from evals.runner import CostTooHigh, run_suite
from tests.conftest import Configure
from tests.evals.test_gate import _summaries_always_in_english

MIMIC = "sim:mimic-1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _simulator(sim: Simulator) -> None:
    """sim: models answered by the test's simulator."""


def _completer() -> Completer:
    return Completer(limiter=RateLimiter({}, None), timeout_s=30.0)


def _record(
    cases: list[Case], cache: DiskCache, model: str = MIMIC, judge: str | None = None
) -> RunRecord:
    judging = Judging(judge, _completer(), cache) if judge else None
    return RunRecord.new(
        model, run_suite(cases, model, _completer(), cache, judging=judging), judge
    )


def test_an_edit_the_mimic_catches_cannot_be_accepted_without_a_waiver(
    tmp_path: Path, configure: Configure
) -> None:
    cases = [c for c in load_cases(task="summary") if c.severity == "block"]
    cache = DiskCache(tmp_path / "cache")
    before = accept(
        _record(cases, cache), None, waive={"summary-empty": "sim", "summary-injection": "sim"}
    )
    configure(prompts_dir=_summaries_always_in_english(tmp_path))
    after = _record(cases, cache)
    assert not compare(before, after).passed
    table = "\n".join(comparison(before, after))
    assert "### Changed verdicts" in table
    assert "| `summary-ko-ticket` | summary | ko | pass | **fail** |" in table
    assert "| summary | ko | 1/1 | 0/1 ▼ |" in table
    with pytest.raises(AcceptRefused) as refused:
        accept(after, before)
    reasons = "\n".join(refused.value.reasons)
    assert "block case summary-ko-ticket passed in the baseline and fails" in reasons
    assert "--waive summary-ko-ticket=REASON" in reasons
    # Waived by id with a reason, it is accepted, kept, and shown by the gate.
    broken = [r.case.id for r in after.results if not r.passed]
    waived = accept(after, before, waive={cid: "we want English" for cid in broken})
    assert set(waived["waivers"]) == set(broken)
    shown = compare(waived, after)
    assert shown.passed and any(
        "summary-ko-ticket still fails: we want English" in w for w in shown.waived
    )


def test_a_waiver_ends_when_its_case_passes_again(tmp_path: Path) -> None:
    cases = [c for c in load_cases(task="summary") if c.severity == "block"]
    record = _record(cases, DiskCache(tmp_path / "cache"))
    passing = next(r.case.id for r in record.results if r.passed)
    baseline = accept(
        record,
        {"waivers": {passing: "was broken"}, "cases": {}},
        waive={"summary-empty": "sim", "summary-injection": "sim"},
    )
    assert passing not in baseline["waivers"] and "summary-empty" in baseline["waivers"]


def test_a_run_with_errors_cannot_be_accepted(tmp_path: Path) -> None:
    cases = load_cases(task="classify")[:2]
    # No OPENAI_API_KEY here: every sample is an error, not an answer.
    record = _record(cases, DiskCache(tmp_path / "cache"), model="openai:gpt-4.1-mini")
    assert len(record.errors()) == 2
    with pytest.raises(AcceptRefused) as refused:
        accept(record, None)
    assert "2 of 2 samples got no answer" in refused.value.reasons[0]
    assert "OPENAI_API_KEY" in refused.value.reasons[0]


def test_without_a_key_accept_fails_and_writes_nothing(tmp_path: Path) -> None:
    before = BASELINE.read_bytes()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AUTOFILL_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/autofill"),
            "evals",
            "run",
            "--task",
            "classify",
            "--model",
            "openai:gpt-4.1-mini",
            "--judge-model",
            "none",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert "OPENAI_API_KEY" in result.stdout  # the cause is on the terminal, not only in a file
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/autofill"),
            "evals",
            "run",
            "--model",
            "openai:gpt-4.1-mini",
            "--judge-model",
            "none",
            "--accept",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "Not accepted" in result.stdout and "got no answer" in result.stdout
    assert BASELINE.read_bytes() == before
    # The record keeps the model's whole name.
    names = [p.name for p in (tmp_path / "evals" / "runs").glob("*.jsonl")]
    assert names and all(n.endswith("-openai_gpt-4.1-mini.jsonl") for n in names)


def test_a_simulated_judge_judges_nothing(tmp_path: Path) -> None:
    cases = load_cases(task="summary")[:2]
    record = _record(cases, DiskCache(tmp_path / "cache"), judge="sim:sim-1")
    judged = [
        c
        for r in record.results
        for s in r.samples
        for c in s.checks
        if c.check.startswith("judge:")
    ]
    assert judged and all(not c.judged and "not judged" in c.reason for c in judged)
    assert record.verdict_source().startswith("Verdicts from a simulated model")
    assert "model-graded checks not judged" in record.verdict_source()


def test_the_gate_tells_a_regression_from_noise() -> None:
    # 5/5 → 0/5: p = 0.004, a regression; 5/5 → 3/5: p = 0.22, noise.
    assert fewer_passes_p(0, 5, 5, 5) == pytest.approx(1 / 252)
    assert fewer_passes_p(3, 5, 5, 5) == pytest.approx(0.2222, abs=1e-3)
    assert fewer_passes_p(5, 5, 5, 5) == 1.0


def test_samples_flaky_cases_and_quarantine(tmp_path: Path, sim: Simulator) -> None:
    cases = [c for c in load_cases(task="summary") if c.id == "summary-ko-ticket"]
    cache = DiskCache(tmp_path / "cache")
    record = RunRecord.new(MIMIC, run_suite(cases, MIMIC, _completer(), cache, samples=5))
    baseline = build_baseline(record)
    assert baseline["cases"]["summary-ko-ticket"] == {
        **baseline["cases"]["summary-ko-ticket"],
        "passes": 5,
        "samples": 5,
    }
    # Three samples of five now fail: lower, but not told apart from noise.
    for sample in record.results[0].samples[:2]:
        sample.error = "pretend"
    gate = compare(baseline, record)
    assert gate.passed and any("summary-ko-ticket: passed 3 of 5" in f for f in gate.flaky)
    assert any("not told apart from noise" in w for w in gate.warnings)
    for sample in record.results[0].samples:
        sample.error = "pretend"
    gate = compare(baseline, record)
    assert not gate.passed and "Fisher's exact test" in gate.failures[0]
    baseline["quarantine"] = {"summary-ko-ticket": "flaky until #42"}
    gate = compare(baseline, record)
    assert gate.passed and gate.quarantined == ["summary-ko-ticket (fails): flaky until #42"]


def test_max_cost_stops_a_run_before_it_spends(tmp_path: Path, sim: Simulator) -> None:
    cases = load_cases(task="summary")
    with pytest.raises(CostTooHigh, match="nothing was sent"):
        run_suite(cases, MIMIC, _completer(), DiskCache(tmp_path / "cache"), max_cost_usd=0.0001)
    assert sim.requests == []


def test_reports_keep_model_names_whole_and_each_failure_once(tmp_path: Path) -> None:
    cases = load_cases(task="classify")[:1]
    record = _record(cases, DiskCache(tmp_path / "cache"), model="openai:gpt-4.1-mini")
    paths = write(record, tmp_path / "runs")
    assert paths["md"].name.endswith("-openai_gpt-4.1-mini.md")
    report = paths["md"].read_text(encoding="utf-8")
    assert report.count("OPENAI_API_KEY") == 1
