"""The documented deployment, brought up for real: the repository's Dockerfile built on a
locally made Debian base, docker-compose.yml started with docker compose (host networking,
this machine's PostgreSQL and a private Redis; see tests/deploy/stack.py for exactly what is
changed), a row written through the API and its AI cells filled by the stack's own dispatcher,
workers and simulator — then torn down (issue 22)."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import unavailable
from tests.deploy.images import build_application_image, ensure_base_image, run
from tests.deploy.stack import (
    Stack,
    StackPorts,
    compose_command,
    host_network_compose,
    running_stack,
    source_compose,
)
from tests.topology import RedisServer, free_port, scratch_postgres

# Building the base (first time on a machine: ~40 s of debootstrap), the wheels (~20 s) and
# the image (~2 min on 2 cores), then the stack's start and two fills.
pytestmark = pytest.mark.timeout(1500)

# The Dockerfile's user (useradd --uid 10001).
IMAGE_UID = "10001"
WORKERS = ("worker", "worker-interactive", "dispatcher")


@pytest.fixture(scope="module")
def docker() -> None:
    try:
        run("docker", "info", timeout=30)
        compose_command()
    except (RuntimeError, FileNotFoundError, subprocess.TimeoutExpired) as exc:
        unavailable("a Docker engine with docker compose", exc)


@pytest.fixture(scope="module")
def image(docker: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("image")
    tag = build_application_image(ensure_base_image(workdir), workdir)
    try:
        yield tag
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True)


@pytest.fixture
def stack(image: str, tmp_path: Path) -> Iterator[tuple[Stack, StackPorts]]:
    ports = StackPorts(api=free_port(), sim=free_port(), metrics={n: free_port() for n in WORKERS})
    redis = RedisServer(free_port(), tmp_path / "redis.log")
    redis.start()
    try:
        with scratch_postgres("autofill_compose") as database_url:
            document = host_network_compose(
                source_compose(),
                image=image,
                database_url=database_url,
                redis_url=redis.url,
                ports=ports,
            )
            project = f"autofillci{secrets.token_hex(3)}"
            with running_stack(document, project, tmp_path) as running:
                yield running, ports
    finally:
        redis.stop()


def _cell(client: httpx2.Client, row_id: str, name: str) -> dict[str, Any]:
    response = client.get(f"/v1/rows/{row_id}")
    assert response.status_code == 200, response.text
    return response.json()["cells"][name]  # type: ignore[no-any-return]


def _filled(client: httpx2.Client, row_id: str, name: str) -> bool:
    cell = _cell(client, row_id, name)
    assert cell["status"] not in ("error", "failed"), cell
    return bool(cell["status"] == "filled")


def _fills_counted(port: int) -> float:
    """autofill_fills_total{outcome="filled"} summed, from a process's /metrics."""
    text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "autofill_fills"
        for sample in family.samples
        if sample.name == "autofill_fills_total" and sample.labels.get("outcome") == "filled"
    )


def test_the_compose_stack_starts_and_fills_cells(stack: tuple[Stack, StackPorts]) -> None:
    running, ports = stack
    # The schema is migrated once, by its own job, and the API is healthy only after it.
    running.wait_completed("migrate")
    running.wait_healthy("llm-sim")
    running.wait_healthy("api")
    # Every process runs as the image's user, not root.
    assert running.exec("api", "id", "-u").strip() == IMAGE_UID

    token = running.exec("api", "autofill", "workspace", "create", "Compose CI").strip()
    assert re.fullmatch(r"af_\S+", token), token
    client = httpx2.Client(
        base_url=f"http://127.0.0.1:{ports.api}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    database = client.post(
        "/v1/databases",
        json={
            "name": "Support",
            "properties": [
                {"name": "Name", "type": "title"},
                {"name": "Summary", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
            ],
        },
    )
    assert database.status_code == 201, database.text
    database_id = database.json()["id"]
    content = "The export times out for big workspaces."
    row = client.post(f"/v1/databases/{database_id}/rows", json={"content": content})
    assert row.status_code == 201, row.text
    row_id = row.json()["id"]

    # A person's edit: filled by worker-interactive, from the stack's simulator.
    running.wait_for("the Summary cell filled", lambda: _filled(client, row_id, "Summary"))
    cell = _cell(client, row_id, "Summary")
    assert cell["value"] == f"[sim] {content}"  # simulated, and marked so
    assert cell["provenance"]["model"] == "sim:sim-1"

    # A new AI column on existing rows: a backfill, on the bulk lane's worker.
    added = client.post(
        f"/v1/databases/{database_id}/properties",
        json={"name": "Digest", "type": "ai", "ai": {"task": "summary", "inputs": ["content"]}},
    )
    assert added.status_code == 201, added.text
    running.wait_for("the Digest cell filled", lambda: _filled(client, row_id, "Digest"))

    # Each process's /metrics, scraped on its own port, counted the fill it made.
    assert client.get("/metrics").status_code == 200
    running.wait_for(
        "both fills counted by the workers' metrics",
        lambda: (
            _fills_counted(ports.metrics["worker-interactive"]) >= 1
            and _fills_counted(ports.metrics["worker"]) >= 1
        ),
        timeout=30,
    )
    assert (
        "autofill_outbox_entries"
        in httpx2.get(f"http://127.0.0.1:{ports.metrics['dispatcher']}/metrics", timeout=5).text
    )

    # The logs say the answers are simulated, and no process complained of its data directory.
    logs = running.logs()
    assert "simulated" in logs.lower()
    assert "Permission denied" not in logs
    assert "No hostname was supplied" not in logs
    # The workers and the dispatcher report healthy by their own checks too.
    for name in WORKERS:
        running.wait_healthy(name, timeout=120)
