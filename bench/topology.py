"""The distributed topology for benchmarks, all on loopback: a PostgreSQL database and a Redis
server of the run's own, the LLM simulator as its own process, `autofill dispatcher` and
`autofill worker` processes. CPU time and resident memory are read from /proc for each process
(threads included), so a figure can say what our processes cost per fill."""

from __future__ import annotations

import os
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

import httpx2

from autofill.db.migrate import upgrade
from autofill.db.session import Store
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from bench.netns import Host, Network
from bench.services import RedisServer, private_postgres, scratch_postgres, server_port

AUTOFILL = str(Path(sys.executable).with_name("autofill"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    """Living processes whose parent is ``pid`` (gunicorn's workers under its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process, its threads and its living children (and theirs)."""
    total = cpu_seconds(pid)
    for child in children_of(pid):
        try:
            total += tree_cpu_seconds(child)
        except OSError:
            continue
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mib(pid: int) -> float:
    """A process's proportional set size: its private pages, plus each page it shares with
    others divided by how many share it. Processes forked from one parent share what it
    loaded: their RSS counts those pages in each, their PSS adds up to what the host holds."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_cpu_seconds() -> float:
    """All CPU time spent on the machine (every process, PostgreSQL and Redis included)."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(parts[3]) + int(parts[4])
    return (sum(int(p) for p in parts[:8]) - idle) / CLOCK_TICKS


@dataclass
class Topology:
    database_url: str
    sim_url: str
    env: dict[str, str]
    logs: Path
    store: Store
    workspace_id: str
    token: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis_url: str = ""
    # Services' own processes, for their CPU: Redis always; PostgreSQL when the run has a
    # server of its own (with a network), not the machine's shared one.
    redis_pid: int | None = None
    postgres_pid: int | None = None

    def spawn(
        self, name: str, *args: str, command: list[str] | None = None, host: Host | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``autofill ARGS`` (or ``command`` then ARGS) with the topology's settings, on
        ``host`` (a network namespace of bench.netns) or on the machine."""
        argv = [*(command or [AUTOFILL]), *args]
        process = subprocess.Popen(
            host.command(argv) if host else argv,
            env=self.env,
            stdout=(self.logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    def wait_for(
        self, condition: Callable[[], Any], timeout: float = 60.0, every: float = 0.2
    ) -> Any:
        """``condition()``'s first truthy result within ``timeout`` seconds; else an error
        quoting the end of every process's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(every)
        tails = "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}"
            for log in sorted(self.logs.glob("*.log"))
        )
        raise AssertionError(f"timed out waiting for {condition}\n{tails}")

    def ours(self) -> dict[str, int]:
        """Our processes (not the simulator, PostgreSQL or Redis): name → pid."""
        return {n: p.pid for n, p in self.processes.items() if n != "sim" and p.poll() is None}

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far per process of ours, its children included (`serve` is a
        gunicorn master: the requests run in its workers)."""
        return {name: tree_cpu_seconds(pid) for name, pid in self.ours().items()}

    def sim_stats(self) -> dict[str, Any]:
        base = self.sim_url.removesuffix("/v1")
        return httpx2.get(f"{base}/_sim/stats", timeout=10).json()  # type: ignore[no-any-return]

    def sim_configure(self, **changes: Any) -> None:
        base = self.sim_url.removesuffix("/v1")
        httpx2.post(f"{base}/_sim/config", json=changes, timeout=10).raise_for_status()

    def sim_reset(self) -> None:
        base = self.sim_url.removesuffix("/v1")
        httpx2.post(f"{base}/_sim/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def start_simulator(topo: Topology, address: str, port: int, sim_args: list[str]) -> None:
    """The simulator on ``port``, or on another free one if it could not listen there: a port
    found free can be taken by another program before the simulator binds it (seen once, with
    a CI run's servers starting beside a benchmark); the topology's settings follow it."""
    for attempt in range(3):
        if attempt:
            port = server_port()
            topo.sim_url = f"http://{address}:{port}/v1"
            topo.env["AUTOFILL_SIM_URL"] = topo.sim_url
        sim = topo.spawn("sim", "llm-sim", "--host", address, "--port", str(port), *sim_args)
        try:
            _wait_for_sim(topo.sim_url, sim)
            return
        except SimulatorExited:
            if attempt == 2 or "address already in use" not in _log_tail(topo.logs / "sim.log"):
                raise


class SimulatorExited(RuntimeError):
    pass


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def _wait_for_sim(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SimulatorExited("the LLM simulator exited")
        try:
            httpx2.get(f"{url.removesuffix('/v1')}/_sim/stats", timeout=1)
            return
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the LLM simulator did not start")


@contextmanager
def topology(
    *,
    sim_args: list[str],
    env: dict[str, str] | None = None,
    keep_logs: bool = False,
    network: Network | None = None,
) -> Iterator[Topology]:
    """Services up, migrated, one workspace; the caller spawns workers and dispatchers.

    With ``network`` (bench.netns) the services listen on its bridge, for processes on its
    hosts: a PostgreSQL server of the run's own (with pg_stat_statements, so a run can count
    statements), Redis and the simulator."""
    with ExitStack() as stack:
        logs = Path(tempfile.mkdtemp(prefix="autofill-bench-"))
        address = network.gateway if network else "127.0.0.1"
        if network is None:
            database_url = stack.enter_context(scratch_postgres("autofill_bench"))
        else:
            server = stack.enter_context(
                private_postgres(
                    address,
                    str(network.subnet),
                    {"shared_preload_libraries": "pg_stat_statements"},
                )
            )
            database_url = server.url
        redis_server = RedisServer(server_port(), logs / "redis.log", host=address)
        redis_server.start()
        stack.callback(redis_server.stop)
        sim_port = server_port()
        sim_url = f"http://{address}:{sim_port}/v1"
        store = open_store(database_url)
        stack.callback(store.dispose)
        upgrade(store)
        with store.transaction() as session:
            workspace, token = create_workspace(session, "Benchmarks")
        full_env = {
            **os.environ,
            "AUTOFILL_DATABASE_URL": database_url,
            "AUTOFILL_REDIS_URL": redis_server.url,
            "AUTOFILL_SIM_URL": sim_url,
            "AUTOFILL_DATA_DIR": str(logs),
            "AUTOFILL_DEBOUNCE_S": "0",
            **(env or {}),
        }
        topo = Topology(database_url, sim_url, full_env, logs, store, workspace.id, token)
        topo.redis_url = redis_server.url
        topo.redis_pid = redis_server.process.pid if redis_server.process else None
        if network is not None:
            pid_file = server.directory / "data" / "postmaster.pid"
            topo.postgres_pid = int(pid_file.read_text().split()[0])
        stack.callback(topo.stop)
        start_simulator(topo, address, sim_port, sim_args)
        yield topo
        if not keep_logs:
            for log in logs.glob("*"):
                log.unlink()
            logs.rmdir()
