from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import Run


def test_demo_runs_on_a_bare_directory(run: Run, tmp_path: Path) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Customer conversations" in out and "6 rows" in out
    for name in ("Facture en double", "ユーザーインタビュー", "Login schlägt fehl", "고객 미팅"):
        assert name in out
    # No key is set here: the simulator answers, and the demo says so.
    assert "No provider key set" in out and "simulator" in out
    assert "are marked [sim]. They are not a model's." in out  # not eaten as markup
    assert "pending" not in out.split("Edited:")[-1]
    # The person's value differs from the AI's, and shows; a classification the simulator
    # answered is marked too, though its value must be one of the options.
    flat = " ".join(out.split())  # rich wraps sentences at the terminal's width
    changed = re.search(r"changed by a person from (\w+) to (\w+)", flat)
    assert changed and changed.group(1) != changed.group(2)
    final = out.split("Edited:")[-1]
    assert changed.group(2) in final
    assert re.search(r"\[sim\] (Positive|Neutral|Negative)", out)
    assert "fills avoided" in out and "model calls" in out
    assert "Bearer af_" in out
    assert (tmp_path / ".autofill" / "autofill.db").exists()
    assert "Traceback" not in result.stderr


def test_demo_twice_makes_two_workspaces(run: Run) -> None:
    assert run("demo").returncode == 0
    assert run("demo").returncode == 0
    assert run("workspace", "list").stdout.count("Demo") == 2
