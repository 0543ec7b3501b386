"""The real topology for worker tests: a PostgreSQL database of its own, a Redis server of its
own (so a test may stop and restart it), the LLM simulator, and `autofill worker` /
`autofill dispatcher` as separate processes. The API runs in the test's process against the
same database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from autofill.config import Settings
from autofill.db.migrate import upgrade
from autofill.db.session import Store
from autofill.llm.simulator.server import Simulator
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from tests.conftest import Caller, unavailable
from tests.topology import RedisServer, free_port, scratch_postgres

AUTOFILL = str(Path(sys.executable).with_name("autofill"))


@dataclass
class Topology:
    store: Store
    settings: Settings
    env: dict[str, str]
    redis: RedisServer
    sim: Simulator
    api: Caller
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        name = args[0]
        log = (self.logs / f"{name}-{len(self.processes)}.log").open("ab")
        process = subprocess.Popen(
            [AUTOFILL, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 20, *options: str) -> subprocess.Popen[bytes]:
        node = f"w{len(self.processes)}-{os.getpid()}@localhost"
        return self.spawn("worker", "--concurrency", str(concurrency), *options, "-n", node)

    def dispatcher(self) -> subprocess.Popen[bytes]:
        return self.spawn("dispatcher", "--heartbeat", str(self.logs / "dispatcher.alive"))

    def wait_for(self, condition: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.1)
        tails = "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.logs.glob("*.log"))
        )
        raise AssertionError(f"timed out waiting for {condition}\n{tails}")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with scratch_postgres("autofill_topology") as url:
        yield url


@pytest.fixture
def topology(pg_url: str, tmp_path: Path, simulator_server: Simulator) -> Iterator[Topology]:
    with running_topology(pg_url, tmp_path, simulator_server) as topo:
        yield topo


@contextmanager
def running_topology(
    pg_url: str, tmp_path: Path, simulator: Simulator, **env_overrides: str
) -> Iterator[Topology]:
    try:
        subprocess.run(["redis-server", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable("redis-server", exc)
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    simulator.reset()
    simulator.configure(latency_ms=0, error_rates={}, schedule=[])
    store = open_store(pg_url)
    upgrade(store)
    env = {
        **os.environ,
        "AUTOFILL_DATABASE_URL": pg_url,
        "AUTOFILL_REDIS_URL": server.url,
        "AUTOFILL_SIM_URL": simulator.openai_base_url,
        "AUTOFILL_DATA_DIR": str(tmp_path),
        "AUTOFILL_DEBOUNCE_S": "0",
        "AUTOFILL_DISPATCH_INTERVAL_S": "0.05",
        "AUTOFILL_SWEEP_INTERVAL_S": "1",
        "AUTOFILL_REDISPATCH_AFTER_S": "8",
        "AUTOFILL_FILL_TIMEOUT_S": "6",
        "AUTOFILL_FILL_LEASE_MARGIN_S": "2",
        "AUTOFILL_LOG_LEVEL": "INFO",
        **env_overrides,
    }
    settings = Settings(
        data_dir=tmp_path, database_url=pg_url, redis_url=server.url, debounce_s=0.0
    )
    app = create_app({"TESTING": True, "STORE": store, "SETTINGS": settings, "MIGRATE": False})
    with store.transaction() as session:
        workspace, token = create_workspace(session, "Topology")
    topo = Topology(
        store=store,
        settings=settings,
        env=env,
        redis=server,
        sim=simulator,
        api=Caller(app.test_client(), token, workspace.id),
        logs=tmp_path,
    )
    try:
        yield topo
    finally:
        topo.stop_all()
        server.stop()
        store.dispose()
