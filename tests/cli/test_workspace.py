from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api import create_app
from autofill.config import Settings
from autofill.services.store import open_store
from tests.cli.conftest import Run


def client_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / '.autofill' / 'autofill.db'}")
    return create_app(
        {"STORE": store, "SETTINGS": Settings(data_dir=tmp_path), "MIGRATE": False}
    ).test_client()


def test_create_prints_a_working_token(run: Run, tmp_path: Path) -> None:
    result = run("workspace", "create", "Acme")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("af_") and "\n" not in token
    assert "workspace ws_" in result.stderr and "not shown again" in result.stderr
    response = client_for(tmp_path).get(
        "/v1/databases", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_list_create_and_revoke_tokens(run: Run, tmp_path: Path) -> None:
    first = run("workspace", "create", "Acme").stdout.strip()
    listing = run("workspace", "list").stdout
    workspace_id = listing.split()[0]
    assert "Acme" in listing and first not in listing and first[:10] in listing

    second = run("token", "create", workspace_id, "--name", "ci").stdout.strip()
    assert second.startswith("af_") and second != first
    token_id = next(
        line.split()[0] for line in run("workspace", "list").stdout.splitlines() if " ci " in line
    )
    revoked = run("token", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    client = client_for(tmp_path)
    assert (
        client.get("/v1/databases", headers={"Authorization": f"Bearer {second}"}).status_code
        == 401
    )
    assert (
        client.get("/v1/databases", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    )
    assert "revoked" in run("workspace", "list").stdout


def test_bad_input_is_a_message_and_non_zero_exit(run: Run) -> None:
    for args, fragment in [
        (("workspace", "create", "   "), "must not be empty"),
        (("workspace", "create"), "Missing argument"),
        (("token", "create", "ws_nope"), "no workspace 'ws_nope'"),
        (("token", "revoke", "tok_nope"), "no token 'tok_nope'"),
    ]:
        result = run(*args)
        assert result.returncode != 0, args
        assert fragment in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_list_maps_only_the_accounts_tables(run: Run, tmp_path: Path) -> None:
    # Listing workspaces touches two tables: it must not declare the whole schema or load the
    # events feed (40-55 ms of every start, bench.cli_start).
    assert run("workspace", "create", "Acme").returncode == 0
    probe = (
        "import sys; from click.testing import CliRunner; from cli.main import main; "
        "shown = CliRunner().invoke(main, ['workspace', 'list']); "
        "assert shown.exit_code == 0 and 'Acme' in shown.output, shown.output; "
        "print(sorted(m for m in ('autofill.db.accounts', 'autofill.db.models', "
        "'autofill.fills') if m in sys.modules))"
    )
    loaded = run_python(probe, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "['autofill.db.accounts']"


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOFILL_")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
