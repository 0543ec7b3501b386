"""Judges are checked against people's labels before they may grade for the gate.

The simulator stands in for a judge model here (the OpenAI route points at it): it cannot grade
meaning, so it passes every answer — agreement about one half, which the calibration refuses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from autofill.llm.complete import Completer
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.simulator.server import Simulator
from evals.cache import DiskCache
from evals.calibration import calibrate, load_set, save_calibrations, stored_calibration
from evals.cases_schema import load_cases
from evals.judges import Judging, judges_file

JUDGE = "openai:gpt-4.1-mini"


def _judging(tmp_path: Path, results: Path) -> Judging:
    completer = Completer(limiter=RateLimiter({}, None), timeout_s=30.0)
    return Judging(JUDGE, completer, DiskCache(tmp_path / "cache"), results)


def test_every_judge_has_a_labelled_set_in_several_languages() -> None:
    for judge in judges_file().judges:
        labelled = load_set(judge)
        assert {i.label for i in labelled.items} == {"good", "bad"}
        assert len({i.language for i in labelled.items}) >= 3


def test_a_judge_that_disagrees_with_people_is_refused(
    tmp_path: Path, providers: Simulator
) -> None:
    results = tmp_path / "results.json"
    judging = _judging(tmp_path, results)
    found = calibrate(judging)
    assert len(found) == len(judges_file().judges) and all(f.errors == 0 for f in found)
    assert all(not f.trusted for f in found), found  # it cannot tell good from bad
    save_calibrations(found, results)
    case = next(c for c in load_cases(task="summary") if c.language == "fr")
    verdicts = judging.judge(case, "Un résumé.")
    assert verdicts and all(not v.judged for v in verdicts)
    assert "agrees with people's labels" in verdicts[0].reason


def test_an_uncalibrated_judge_is_refused_and_a_calibrated_one_grades(
    tmp_path: Path, providers: Simulator
) -> None:
    results = tmp_path / "results.json"
    judging = _judging(tmp_path, results)
    case = next(c for c in load_cases(task="summary") if c.language == "fr")
    assert all("not calibrated" in v.reason for v in judging.judge(case, "Un résumé."))
    trusted = [replace(f, true_positive=f.good, true_negative=f.bad) for f in calibrate(judging)]
    save_calibrations(trusted, results)
    summary_judge = next(j for j in judges_file().judges if j.id == "reasonable_summary")
    stored = stored_calibration(summary_judge, JUDGE, results)
    assert stored is not None and stored.trusted and stored.agreement == 1.0
    verdicts = judging.judge(case, "Un résumé.")
    assert verdicts and all(v.judged for v in verdicts)
