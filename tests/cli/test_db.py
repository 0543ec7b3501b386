from __future__ import annotations

from tests.cli.conftest import Run


def test_upgrade_then_current(run: Run) -> None:
    before = run("db", "current")
    assert before.returncode == 1 and "current: none" in before.stdout
    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "autofill.db at 0001" in upgraded.stdout
    after = run("db", "current")
    assert after.returncode == 0 and "current: 0001  latest: 0001" in after.stdout


def test_upgrade_on_postgres(run: Run, postgres_url: str) -> None:
    result = run("db", "upgrade", extra_env={"AUTOFILL_DATABASE_URL": postgres_url})
    assert result.returncode == 0, result.stderr
    assert postgres_url.rsplit("/", 1)[1] + " at 0001" in result.stdout
