"""The gate: it passes an unchanged suite, and catches a prompt edit that regresses cases.

The scripted model ``sim:mimic-1`` answers in a page's language only when the prompt makes it
clear, and in English whenever its instructions say to write in English. A prompt edit that adds
such a rule to the summary prompt must therefore fail the gate, naming the cases it broke."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from autofill.prompts.library import prompts_dir
from evals.cache import DiskCache
from evals.cases_schema import Case, load_cases
from evals.gate import build_baseline, compare
from evals.record import RunRecord
from tests.conftest import Configure

MIMIC = "sim:mimic-1"


@pytest.fixture(autouse=True)
def _simulator(sim: Simulator) -> None:
    """sim: models answered by the test's simulator (the sim fixture configures it)."""


def _record(cases: list[Case], cache: DiskCache, model: str = MIMIC) -> RunRecord:
    from evals.runner import run_suite

    completer = Completer(limiter=RateLimiter({}, None), timeout_s=30.0)
    return RunRecord.new(model, run_suite(cases, model, completer, cache))


def _summaries_always_in_english(tmp_path: Path) -> Path:
    edited = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), edited)
    path = edited / "summary.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"].append("Always write the summary in English.")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return edited


def test_an_edit_that_makes_answers_english_fails_the_gate_naming_the_cases(
    tmp_path: Path, configure: Configure, sim: Simulator
) -> None:
    cases = load_cases(task="summary")
    cache = DiskCache(tmp_path / "cache")
    baseline = build_baseline(_record(cases, cache))
    assert baseline["cases"]["summary-ko-ticket"]["passed"]
    assert baseline["simulated"] and "simulator" in baseline["note"]

    calls = len(sim.requests)
    again = _record(cases, cache)
    assert compare(baseline, again).passed
    assert len(sim.requests) == calls  # unchanged prompts: every answer came from the cache
    assert all(s.from_cache for r in again.results for s in r.samples)

    configure(prompts_dir=_summaries_always_in_english(tmp_path))
    result = compare(baseline, _record(cases, cache))
    assert not result.passed
    failures = "\n".join(result.failures)
    assert "prompts/summary.yaml is version" in failures  # the edit was not evaluated
    regressed = [f for f in result.failures if f.startswith("case ")]
    korean = [f for f in regressed if "summary-ko-ticket" in f]
    assert korean and "answer is in en, expected ko" in korean[0]
    assert not any("summary-en-" in f for f in regressed)  # English pages still pass
    assert any(f.startswith("language ko") for f in result.failures)


def test_block_regressions_fail_and_warn_regressions_only_warn(tmp_path: Path) -> None:
    cases = load_cases(task="translate")[:2]
    record = _record(cases, DiskCache(tmp_path / "cache"), model="sim:sim-1")
    assert not any(r.passed for r in record.results)  # the simulator does not translate
    baseline = build_baseline(record)
    for entry in baseline["cases"].values():
        entry["passed"], entry["passes"] = True, entry["samples"]  # as if they passed then
    record.results[1].case = record.results[1].case.model_copy(update={"severity": "warn"})
    result = compare(baseline, record, margin=1.0)
    assert [f.split(" (")[0] for f in result.failures] == [f"case {cases[0].id}"]
    assert any(cases[1].id in w for w in result.warnings)


def test_a_language_whose_pass_rate_drops_beyond_the_margin_fails(tmp_path: Path) -> None:
    cases = [
        c.model_copy(update={"severity": "warn"})  # case regressions only warn: the rate fails
        for c in load_cases(task="classify")
        if c.language == "en"
    ]
    record = _record(cases, DiskCache(tmp_path / "cache"), model="sim:sim-1")
    assert not all(r.passed for r in record.results)
    baseline = build_baseline(record)
    for entry in baseline["cases"].values():
        entry["passed"], entry["passes"] = True, 1  # every case passed when accepted
    assert any(f.startswith("language en") for f in compare(baseline, record, 0.05).failures)
    assert compare(baseline, record, margin=1.0).passed
