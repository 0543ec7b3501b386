"""`autofill evals` from a bare directory: run, the cache on a second run, the gate."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run


def test_run_writes_a_record_and_reports_and_reuses_answers(run: Run, tmp_path: Path) -> None:
    first = run("evals", "run", "--task", "classify")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("sim:mimic-1: the LLM simulator")
    assert "Verdicts from a simulated model" in first.stdout and "(0/12 answers)" in first.stdout
    table = [line for line in first.stdout.splitlines() if "│" in line or "┃" in line]
    assert table and max(len(line) for line in table) <= 80  # readable at 80 columns
    assert not any("…" in line for line in table)  # no cell cut short
    runs = tmp_path / ".autofill" / "evals" / "runs"
    records = sorted(runs.glob("*.jsonl"))
    assert len(records) == 1
    lines = [json.loads(line) for line in records[0].read_text().splitlines()]
    header, cases = lines[0]["run"], lines[1:]
    assert header["model"] == "sim:mimic-1" and header["model_simulated"] is True
    assert header["judge_model"] is None and header["spent_usd"] > 0
    assert set(header["prompts"]) >= {"summary", "classify"}
    assert len(cases) == 12
    sample = cases[0]["samples"][0]
    assert {"value", "text", "tokens_in", "cost_usd", "latency_s", "checks"} <= set(sample)
    assert all({"check", "passed", "reason", "judged"} == set(c) for c in sample["checks"])
    assert sorted(runs.glob("*.md")) and sorted(runs.glob("*.html"))

    second = run("evals", "run", "--task", "classify")
    assert second.returncode == 0 and "(12/12 answers)" in second.stdout
    assert "spent $0.0000" in second.stdout


def test_the_gate_passes_on_the_committed_baseline(run: Run) -> None:
    result = run("evals", "gate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Gate: passed" in result.stdout
    first = result.stdout.splitlines()[1]  # after the line that starts the simulator
    assert first.startswith("Verdicts from a simulated model")


def test_bad_cases_or_options_are_clear_errors(run: Run, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "x.yaml").write_text("cases: [{id: x, task: summary, language: en}]")
    result = run("evals", "run", extra_env={"AUTOFILL_EVAL_CASES_DIR": str(cases)})
    assert result.returncode == 1
    assert "x.yaml: case x" in result.stderr and "Traceback" not in result.stderr
    result = run("evals", "run", "--task", "classify", "--accept")
    assert result.returncode == 1 and "--accept needs the whole suite" in result.stderr
