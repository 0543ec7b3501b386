"""`autofill watch` against the API served by gunicorn on loopback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from autofill.db.session import Store
from autofill.services.workspaces import create_workspace
from tests.api.test_gunicorn_smoke import AUTOFILL, call, server  # noqa: F401 (fixture)

MANUAL = {
    "name": "Watched",
    "properties": [
        {"name": "Name", "type": "title"},
        {
            "name": "Summary",
            "type": "ai",
            "ai": {"task": "summary", "inputs": ["content"], "auto_update": False},
        },
    ],
}


def _watch(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOFILL_")}
    return subprocess.run(
        [AUTOFILL, "watch", *args],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_watch_prints_the_cell_changes(server: str, store: Store, tmp_path: Path) -> None:  # noqa: F811
    with store.transaction() as session:
        _, token = create_workspace(session, "Watch")
    _, database = call(server, "POST", "/v1/databases", token, MANUAL)
    prop_id = database["properties"][1]["id"]
    _, row = call(server, "POST", f"/v1/databases/{database['id']}/rows", token, {"content": "x"})
    call(server, "PUT", f"/v1/rows/{row['id']}/cells/{prop_id}", token, {"value": "By hand"})

    result = _watch(
        database["id"],
        "--url",
        server,
        "--token",
        token,
        "--after",
        "0",
        "--timeout",
        "2",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if row["id"] in line]
    assert len(lines) == 2
    assert "Summary" in lines[0] and "empty" in lines[0]
    assert "overridden" in lines[1] and "By hand" in lines[1]


def test_watch_explains_a_bad_token_or_database(
    server: str,  # noqa: F811
    store: Store,
    tmp_path: Path,
) -> None:
    result = _watch("db_nope", "--url", server, "--token", "af_wrong", tmp_path=tmp_path)
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "Traceback" not in result.stderr
    with store.transaction() as session:
        _, token = create_workspace(session, "Watch")
    result = _watch("db_nope", "--url", server, "--token", token, tmp_path=tmp_path)
    assert result.returncode == 1 and "HTTP 404" in result.stderr
    result = _watch("db_nope", "--url", "http://127.0.0.1:9", "--token", token, tmp_path=tmp_path)
    assert result.returncode == 1 and "cannot reach" in result.stderr
