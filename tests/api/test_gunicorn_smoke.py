"""The API served by `autofill serve` (gunicorn) on loopback, driven over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from autofill.db.session import Store
from autofill.llm.simulator.server import Simulator
from autofill.services.workspaces import create_workspace

AUTOFILL = str(Path(sys.executable).with_name("autofill"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    base: str, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(
    store: Store, database_url: str, tmp_path: Path, simulator_server: Simulator
) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "AUTOFILL_DATABASE_URL": database_url,
        "AUTOFILL_DATA_DIR": str(tmp_path),
        "AUTOFILL_SIM_URL": simulator_server.openai_base_url,
        "AUTOFILL_DEBOUNCE_S": "0",
        # Economy fills: a batch is looked at half a second after it is sent.
        "AUTOFILL_BATCH_INTERVAL_S": "0.3",
        "AUTOFILL_BATCH_CHECK_FIRST_S": "0.5",
        "AUTOFILL_BATCH_CHECK_MAX_S": "1",
    }
    env.pop("AUTOFILL_REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # Where `serve` makes its metrics directory (tempfile's default), to see it go at exit.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    process = subprocess.Popen(
        [AUTOFILL, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if call(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"gunicorn did not start:\n{output}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not list(scratch.glob("autofill-metrics-*")), "the metrics directory outlived serve"


def test_gunicorn_serves_the_api(server: str, store: Store) -> None:
    with store.transaction() as session:
        _, token = create_workspace(session, "Smoke")
    assert call(server, "GET", "/readyz")[0] == 200
    assert call(server, "GET", "/v1/databases")[0] == 401
    status, database = call(
        server,
        "POST",
        "/v1/databases",
        token,
        {
            "name": "Tickets",
            "properties": [
                {"name": "Title", "type": "title"},
                {
                    "name": "Sentiment",
                    "type": "ai",
                    "ai": {
                        "task": "classify",
                        "output": {"type": "select", "options": ["Good", "Bad"]},
                    },
                },
            ],
        },
    )
    assert status == 201
    status, row = call(
        server,
        "POST",
        f"/v1/databases/{database['id']}/rows",
        token,
        {"properties": {"Title": "Printer on fire"}, "content": "Help!"},
    )
    assert status == 201 and row["cells"]["Sentiment"]["status"] == "pending"
    # Several requests land on both workers; each sees the committed data.
    for _ in range(6):
        status, fetched = call(server, "GET", f"/v1/rows/{row['id']}", token)
        assert status == 200 and fetched["properties"]["Title"] == "Printer on fire"
    status, error = call(
        server, "PATCH", f"/v1/rows/{row['id']}", token, {"properties": {"Nope": 1}}
    )
    assert status == 422 and "properties.Nope" in error["error"]["fields"]
    status, spec = call(server, "GET", "/v1/openapi.json")
    assert status == 200 and spec["openapi"] == "3.1.0"


def test_with_no_redis_the_api_processes_fill_the_cells(server: str, store: Store) -> None:
    with store.transaction() as session:
        workspace, token = create_workspace(session, "Embedded")
        workspace_id = workspace.id
    spec = {
        "name": "Embedded",
        "properties": [
            {"name": "Name", "type": "title"},
            {"name": "Summary", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
        ],
    }
    status, database = call(server, "POST", "/v1/databases", token, spec)
    assert status == 201
    _, row = call(
        server, "POST", f"/v1/databases/{database['id']}/rows", token, {"content": "Served."}
    )
    deadline = time.monotonic() + 30
    cell: dict[str, Any] = {}
    while time.monotonic() < deadline:
        cell = call(server, "GET", f"/v1/rows/{row['id']}", token)[1]["cells"]["Summary"]
        if cell["status"] == "filled":
            break
        time.sleep(0.2)
    assert (cell["status"], cell["value"]) == ("filled", "[sim] Served.")
    # /metrics counts the fill once, whichever of the two gunicorn workers filled it and
    # whichever answers the scrape (prometheus_client's multiprocess directory).
    for _ in range(4):
        with urllib.request.urlopen(server + "/metrics", timeout=10) as response:
            text = response.read().decode()
        filled = [
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "autofill_fills"
            for sample in family.samples
            if sample.labels.get("outcome") == "filled"
            and sample.labels.get("workspace") == workspace_id
        ]
        assert filled == [1.0], text
