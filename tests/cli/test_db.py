from __future__ import annotations

from autofill.db.migrate import MIGRATIONS_DIR
from tests.cli.conftest import Run

HEAD = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("*.py"))[-1]


def test_upgrade_then_current(run: Run) -> None:
    before = run("db", "current")
    assert before.returncode == 1 and "current: none" in before.stdout
    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"autofill.db at {HEAD}" in upgraded.stdout
    after = run("db", "current")
    assert after.returncode == 0 and f"current: {HEAD}  latest: {HEAD}" in after.stdout


def test_upgrade_on_postgres(run: Run, postgres_url: str) -> None:
    result = run("db", "upgrade", extra_env={"AUTOFILL_DATABASE_URL": postgres_url})
    assert result.returncode == 0, result.stderr
    assert postgres_url.rsplit("/", 1)[1] + f" at {HEAD}" in result.stdout


def test_an_invalid_setting_is_named_not_a_traceback(run: Run) -> None:
    result = run("db", "current", extra_env={"AUTOFILL_DEBOUNCE_S": "-1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "AUTOFILL_DEBOUNCE_S: Input should be greater than or equal to 0" in result.stderr
