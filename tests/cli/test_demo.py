from __future__ import annotations

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
    assert "[sim]" in out and "pending" not in out.split("Edited:")[-1]
    assert "Positive" in out  # the overridden cell shows its value
    assert "fills avoided" in out and "model calls" in out
    assert "Bearer af_" in out
    assert (tmp_path / ".autofill" / "autofill.db").exists()
    assert "Traceback" not in result.stderr


def test_demo_twice_makes_two_workspaces(run: Run) -> None:
    assert run("demo").returncode == 0
    assert run("demo").returncode == 0
    assert run("workspace", "list").stdout.count("Demo") == 2
