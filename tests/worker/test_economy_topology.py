"""Economy runs on the real topology: thousands of cells through the simulator's batch APIs with
both SDKs (OpenAI's Files + Batch API, Anthropic's Message Batches), the dispatcher (which runs
the batcher) and the worker SIGKILLed mid-run and started again, and a run cancelled while its
batches are at the provider."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.ratelimit import ApiRateLimiter
from autofill.db import Cell, OutboxEntry, ProviderBatch
from autofill.llm.simulator.server import Simulator
from tests.worker.conftest import Topology, running_topology

pytestmark = pytest.mark.timeout(420)

ROWS = 1_000  # per provider: 2,000 cells in all
MODELS = {"openai": "openai:gpt-4.1-mini", "anthropic": "anthropic:claude-haiku-4-5"}


@pytest.fixture
def economy_topology(
    pg_url: str, tmp_path: Path, simulator_server: Simulator
) -> Iterator[Topology]:
    env = {
        "OPENAI_API_KEY": "sk-sim-openai",
        "OPENAI_BASE_URL": simulator_server.openai_base_url,
        "ANTHROPIC_API_KEY": "sk-sim-anthropic",
        "ANTHROPIC_BASE_URL": simulator_server.base_url,
        "AUTOFILL_BATCH_INTERVAL_S": "0.3",
        "AUTOFILL_BATCH_CHECK_FIRST_S": "0.5",
        "AUTOFILL_BATCH_CHECK_MAX_S": "1",
        "AUTOFILL_BATCH_MAX_REQUESTS": "300",
        "AUTOFILL_BATCH_LEASE_S": "5",
    }
    with running_topology(pg_url, tmp_path, simulator_server, **env) as topology:
        # Thousands of rows are written through the API here: no per-token request limit.
        app = topology.api.client.application
        app.extensions["autofill.rate_limiter"] = ApiRateLimiter(None, None)
        yield topology


def _database(topology: Topology, model: str, rows: int) -> tuple[str, str]:
    spec = {
        "name": f"Backlog {model}",
        "properties": [
            {"name": "Name", "type": "title"},
            {
                "name": "Summary",
                "type": "ai",
                "ai": {
                    "task": "summary",
                    "inputs": ["content"],
                    "auto_update": False,
                    "model": model,
                },
            },
        ],
    }
    database = topology.api.post("/v1/databases", json=spec).get_json()
    for n in range(rows):
        body = {"properties": {"Name": f"Item {n}"}, "content": f"Item {n}: the export is slow."}
        response = topology.api.post(f"/v1/databases/{database['id']}/rows", json=body)
        assert response.status_code == 201, response.get_json()
    column = next(p["id"] for p in database["properties"] if p["name"] == "Summary")
    return database["id"], column


def _run(topology: Topology, run_id: str) -> dict[str, Any]:
    return topology.api.get(f"/v1/runs/{run_id}").get_json()  # type: ignore[no-any-return]


def _batches(topology: Topology, *states: str) -> int:
    with topology.store.transaction() as session:
        return int(session.scalar(select(func.count()).where(ProviderBatch.state.in_(states))) or 0)


def test_an_economy_run_of_thousands_survives_restarts_with_both_sdks(
    economy_topology: Topology,
) -> None:
    topology = economy_topology
    topology.sim.configure(batch_delay_s=4.0)
    runs = {}
    for kind, model in MODELS.items():
        _, column = _database(topology, model, ROWS)
        started = topology.api.post(
            f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"}
        )
        assert started.status_code == 202, started.get_json()
        runs[kind] = started.get_json()["id"]
    dispatcher = topology.dispatcher()
    worker = topology.worker()
    # Mid-run: batches are at the provider (some sent, some perhaps still being claimed).
    topology.wait_for(lambda: _batches(topology, "submitted") >= 2, timeout=120)
    for process in (dispatcher, worker):
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    time.sleep(1.0)
    topology.dispatcher()
    topology.worker()

    def finished() -> bool:
        return all(_run(topology, run_id)["state"] == "done" for run_id in runs.values())

    topology.wait_for(finished, timeout=300)
    for kind, run_id in runs.items():
        run = _run(topology, run_id)
        assert (run["done"], run["failed"]) == (ROWS, 0), (kind, run)
        assert run["batch"]["submitted"] >= ROWS and run["batch"]["in_provider_queue"] == 0
    with topology.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
    # Every answer came from a batch: no cell went live.
    live = [r for r in topology.sim.requests if r["path"] != "batch"]
    assert live == []
    assert {r["protocol"] for r in topology.sim.requests} == {"openai", "anthropic"}


def test_cancelling_an_economy_run_cancels_its_batches(economy_topology: Topology) -> None:
    topology = economy_topology
    topology.sim.configure(batch_delay_s=3600.0)
    _, column = _database(topology, MODELS["openai"], 40)
    run = topology.api.post(
        f"/v1/properties/{column}/fill", json={"scope": "all", "mode": "economy"}
    ).get_json()
    topology.dispatcher()
    topology.wait_for(lambda: _batches(topology, "submitted") == 1)
    cancelled = topology.api.delete(f"/v1/runs/{run['id']}").get_json()
    assert cancelled["state"] == "cancelled"
    topology.wait_for(lambda: _batches(topology, "done") == 1, timeout=60)
    sent = topology.sim.state.book.listed("openai")
    assert len(sent) == 1 and sent[0].cancel_at is not None
    with topology.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        # The cells are back as they were (empty), none left pending.
        statuses = set(session.scalars(select(Cell.status).where(Cell.property_id == column)))
    assert statuses == {"empty"}
