"""The real topology for worker tests: a PostgreSQL database of its own, a Redis server of its
own (so a test may stop and restart it), the LLM simulator, and `autofill worker` /
`autofill dispatcher` as separate processes. The API runs in the test's process against the
same database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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
from bench.services import RabbitServer, server_port
from tests.conftest import Caller, unavailable
from tests.topology import RedisServer, scratch_postgres

AUTOFILL = str(Path(sys.executable).with_name("autofill"))


@dataclass
class Topology:
    store: Store
    settings: Settings
    env: dict[str, str]
    redis: RedisServer  # broker and rate-limit store; unused when RabbitMQ is the broker
    broker: RedisServer | RabbitServer
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
def topology(
    request: pytest.FixtureRequest, pg_url: str, tmp_path: Path, simulator_server: Simulator
) -> Iterator[Topology]:
    """On Redis; a test parametrized indirectly with "rabbitmq" gets RabbitMQ as its broker."""
    broker = getattr(request, "param", "redis")
    with running_topology(pg_url, tmp_path, simulator_server, broker=broker) as topo:
        yield topo


@contextmanager
def rabbitmq_node() -> Iterator[RabbitServer]:
    """A RabbitMQ node of the test's own; unavailable (skip, or fail in CI) if it cannot start."""
    directory = Path(tempfile.mkdtemp(prefix="autofill-rabbit-"))
    node = RabbitServer(directory, server_port())
    try:
        try:
            node.start()
        except (OSError, RuntimeError) as exc:
            unavailable("a RabbitMQ node of the test's own (rabbitmq-server)", exc)
        yield node
    finally:
        node.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def running_topology(
    pg_url: str,
    tmp_path: Path,
    simulator: Simulator,
    *,
    broker: str = "redis",
    **env_overrides: str,
) -> Iterator[Topology]:
    try:
        subprocess.run(["redis-server", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable("redis-server", exc)
    server = RedisServer(server_port(), tmp_path / "redis.log")
    server.start()
    with ExitStack() as stack:
        stack.callback(server.stop)
        broker_process: RedisServer | RabbitServer = server
        if broker == "rabbitmq":
            broker_process = stack.enter_context(rabbitmq_node())
        broker_env = {}
        if broker == "rabbitmq":
            # RabbitMQ and no Redis at all: rate limits (set, so every call counts) live in
            # PostgreSQL (autofill.db.limits).
            broker_env = {
                "AUTOFILL_BROKER_URL": broker_process.url,
                "AUTOFILL_RATE_LIMITS": '{"sim": {"requests": "100000/minute"}}',
            }
        yield stack.enter_context(
            _topology(
                pg_url, tmp_path, simulator, server, broker_process, broker_env, env_overrides
            )
        )


@contextmanager
def _topology(
    pg_url: str,
    tmp_path: Path,
    simulator: Simulator,
    server: RedisServer,
    broker: RedisServer | RabbitServer,
    broker_env: dict[str, str],
    env_overrides: dict[str, str],
) -> Iterator[Topology]:
    simulator.reset()
    simulator.configure(latency_ms=0, error_rates={}, schedule=[])
    store = open_store(pg_url)
    upgrade(store)
    env = {
        **{name: value for name, value in os.environ.items() if name != "AUTOFILL_REDIS_URL"},
        "AUTOFILL_DATABASE_URL": pg_url,
        **({} if "AUTOFILL_BROKER_URL" in broker_env else {"AUTOFILL_REDIS_URL": server.url}),
        "AUTOFILL_SIM_URL": simulator.openai_base_url,
        "AUTOFILL_DATA_DIR": str(tmp_path),
        "AUTOFILL_DEBOUNCE_S": "0",
        "AUTOFILL_DISPATCH_INTERVAL_S": "0.05",
        "AUTOFILL_SWEEP_INTERVAL_S": "1",
        "AUTOFILL_REDISPATCH_AFTER_S": "8",
        "AUTOFILL_FILL_TIMEOUT_S": "6",
        "AUTOFILL_FILL_LEASE_MARGIN_S": "2",
        "AUTOFILL_LOG_LEVEL": "INFO",
        **broker_env,
        **env_overrides,
    }
    settings = Settings(
        data_dir=tmp_path,
        database_url=pg_url,
        redis_url=None if "AUTOFILL_BROKER_URL" in broker_env else server.url,
        broker_url=broker_env.get("AUTOFILL_BROKER_URL"),
        debounce_s=0.0,
    )
    app = create_app({"TESTING": True, "STORE": store, "SETTINGS": settings, "MIGRATE": False})
    with store.transaction() as session:
        workspace, token = create_workspace(session, "Topology")
    topo = Topology(
        store=store,
        settings=settings,
        env=env,
        redis=server,
        broker=broker,
        sim=simulator,
        api=Caller(app.test_client(), token, workspace.id),
        logs=tmp_path,
    )
    try:
        yield topo
    finally:
        topo.stop_all()
        store.dispose()
