"""`autofill models`: the catalogue as a person reads it, and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run


def test_the_table_lists_current_models_and_their_status(run: Run) -> None:
    result = run("models")
    assert result.returncode == 0, result.stderr
    for model in ("gpt-6-luna", "gpt-6.1-sol", "claude-opus-5-5", "claude-haiku-4-5"):
        assert model in result.stdout
    assert "ends 2027-01-14" in result.stdout  # gpt-4.1-mini, deprecated
    assert "claude-sonnet-4-5" not in result.stdout  # retired today
    assert "o4-mini" not in result.stdout
    assert "estimates" in result.stdout


def test_json_has_every_field_and_its_sources(run: Run) -> None:
    result = run("models", "--json", "--provider", "openai", "--retired")
    assert result.returncode == 0, result.stderr
    entries = {entry["model"]: entry for entry in json.loads(result.stdout)}
    luna = entries["openai:gpt-6-luna"]
    assert luna["efforts"][0] == "none" and luna["temperature"] == "reasoning_off"
    assert luna["sources"] and luna["checked"] == "2026-11-30"
    assert entries["openai:o1"] == {
        "model": "openai:o1",
        "status": "retired",
        "retired_on": "2026-10-23",
        "replacement": "openai:gpt-6.1-sol",
    }
    assert all(name.startswith("openai:") for name in entries)


def test_an_operators_entry_is_listed(run: Run, tmp_path: Path) -> None:
    extra = tmp_path / "models.json"
    extra.write_text(json.dumps({"compat:llama": {"context_window": 131072}}))
    result = run(
        "models", "--provider", "compat", extra_env={"AUTOFILL_MODEL_CATALOGUE": str(extra)}
    )
    assert result.returncode == 0 and "llama" in result.stdout and "131K" in result.stdout


def test_a_broken_catalogue_file_is_a_message_not_a_traceback(run: Run, tmp_path: Path) -> None:
    broken = tmp_path / "models.json"
    broken.write_text(json.dumps({"openai:x": {"context_window": -1}}))
    result = run("models", extra_env={"AUTOFILL_MODEL_CATALOGUE": str(broken)})
    assert result.returncode == 1
    assert "'openai:x'" in result.stderr and "Traceback" not in result.stderr
