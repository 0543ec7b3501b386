from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run

DEMO_DB = Path(".autofill") / "autofill.db"


def test_check_lists_every_prompt(run: Run) -> None:
    result = run("prompts", "check")
    assert result.returncode == 0, result.stderr
    for task in ("summary", "key_info", "translate", "classify", "custom", "custom_typed"):
        assert task in result.stdout
    assert "ar de el en es fr he hi ja ko ru th zh" in result.stdout


def test_check_names_the_broken_file(run: Run, tmp_path: Path) -> None:
    broken = tmp_path / "prompts"
    broken.mkdir()
    for task in ("summary", "key_info", "translate", "classify", "custom", "custom_typed"):
        (broken / f"{task}.yaml").write_text("task: summary\n", encoding="utf-8")
    result = run("prompts", "check", extra_env={"AUTOFILL_PROMPTS_DIR": str(broken)})
    assert result.returncode == 1
    assert "summary.yaml: field description" in result.stderr and "Traceback" not in result.stderr


def test_preview_a_demo_column(run: Run, tmp_path: Path) -> None:
    assert run("demo").returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / DEMO_DB) as db:
        prop = db.execute("select id from properties where name = 'Sentiment'").fetchone()[0]
        row = db.execute("select id from rows where content like '%SSO wieder%'").fetchone()[0]
    result = run("prompts", "preview", prop, "--row", row, "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["language"] == "de" and body["examples"][0] == "de-category"
    assert "Options: Positive | Neutral | Negative" in body["messages"][-1]["content"]
    pretty = run("prompts", "preview", prop, "--content", "Un texte en français, très content.")
    assert (
        pretty.returncode == 0 and "cache boundary" in pretty.stdout and "budget" in pretty.stdout
    )


def test_preview_errors(run: Run) -> None:
    assert run("demo").returncode == 0
    for args, fragment in [
        (("prompts", "preview", "prop_nope", "--content", "x"), "no property 'prop_nope'"),
        (("prompts", "preview", "prop_nope"), "exactly one of --row or --content"),
    ]:
        result = run(*args)
        assert result.returncode != 0 and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
