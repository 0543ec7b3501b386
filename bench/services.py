"""Real services of their own for benchmarks (and the topology tests): a PostgreSQL database, a
PostgreSQL server of its own (to restart at will), a Redis server on a private port, free
loopback ports."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import psycopg
import redis

POSTGRES_ADMIN = os.environ.get(
    "AUTOFILL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def server_port() -> int:
    """A free loopback port outside the kernel's ephemeral range, for a server that must listen
    on it again after a crash: an ephemeral port may meanwhile be the local end of any outgoing
    connection of the test run (a database, an HTTP call), and then the restarted server cannot
    bind it."""
    low, high = _ephemeral_range()
    below, above = (20000, low - 1), (high + 1, 65000)
    candidates = range(*below) if below[1] - below[0] > 1000 else range(*above)
    for _ in range(200):
        port = secrets.choice(candidates)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


@dataclass
class RedisServer:
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    # The address it listens on: loopback, or a test network's bridge (bench.netns).
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        # Protected mode refuses clients from other hosts; the bind address is the protection.
        command = ["redis-server", "--port", str(self.port), "--bind", self.host, "--save", ""]
        self.process = subprocess.Popen(
            [*command, "--protected-mode", "no"],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(host=self.host, port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash: nothing saved, the queue is gone
            self.process.wait(10)
            self.process = None


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise FileNotFoundError(f"{name} (PostgreSQL server binaries) not found")
    return found


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of its own in ``directory`` (trust auth, loopback, fsync off: a
    test's data), which a fault test may stop and start like a crashed or restarted server.
    Run as the ``postgres`` user when we are root, as PostgreSQL refuses to run as root."""

    directory: Path
    port: int
    # The address it listens on, and the network whose clients it trusts besides loopback
    # (a test network's bridge and subnet, bench.netns).
    host: str = "127.0.0.1"
    trusted_network: str | None = None
    # Server settings added to the test defaults, e.g. shared_preload_libraries.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        data = str(self.directory / "data")
        self._run(_postgres_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust")
        if self.trusted_network is not None:
            with (self.directory / "data" / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.trusted_network} trust\n")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={self.host} -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(
            _postgres_bin("pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` drops every connection at once, as a restart does; ``immediate`` is a
        crash (no shutdown checkpoint)."""
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "-w", "stop"
        )


# Debian's node script (the rabbitmq-server on PATH is a wrapper that changes user with su).
_RABBITMQ_SERVER = (
    "/usr/lib/rabbitmq/bin/rabbitmq-server"
    if Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists()
    else "rabbitmq-server"
)
_RABBITMQCTL = (
    "/usr/lib/rabbitmq/bin/rabbitmqctl"
    if Path("/usr/lib/rabbitmq/bin/rabbitmqctl").exists()
    else "rabbitmqctl"
)


@dataclass
class RabbitServer:
    """A RabbitMQ node of its own (its own node name, ports and data directory, loopback only),
    which a fault test may kill and start again on the same data, as a crashed broker. Run as
    the ``rabbitmq`` user when we are root (the directory is that user's, and so is the Erlang
    cookie), through setpriv rather than Debian's wrapper: the wrapper's ``su`` puts the node in
    a session of its own, out of reach of the group we kill."""

    directory: Path
    port: int
    # Erlang distribution's listener: its own port, not the machine node's 25672.
    dist_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def node(self) -> str:
        return f"autofill-test-{self.port}@localhost"

    def _environment(self) -> dict[str, str]:
        directory = str(self.directory)
        return {
            **os.environ,
            "HOME": "/var/lib/rabbitmq" if os.geteuid() == 0 else os.environ.get("HOME", ""),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": f"{directory}/mnesia",
            "RABBITMQ_MNESIA_DIR": f"{directory}/mnesia/node",
            "RABBITMQ_LOG_BASE": f"{directory}/log",
            "RABBITMQ_PID_FILE": f"{directory}/node.pid",
            "RABBITMQ_FEATURE_FLAGS_FILE": f"{directory}/feature_flags",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{directory}/enabled_plugins",
            "RABBITMQ_PLUGINS_EXPAND_DIR": f"{directory}/plugins",
            "RABBITMQ_CONFIG_FILE": f"{directory}/rabbitmq",
            "RABBITMQ_ADVANCED_CONFIG_FILE": f"{directory}/advanced.config",
        }

    def start(self, timeout: float = 90, attempts: int = 3) -> None:
        """Start the node and wait for its AMQP listener. A node that exits at start (seen once
        in CI, cause unknown; the error quotes its output) is started again, with a new
        distribution port, up to ``attempts`` times."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
                return
            except _NodeExited as exited:
                if attempt == attempts:
                    raise RuntimeError(str(exited)) from None
                self.dist_port = 0

    def _start_once(self, timeout: float) -> None:
        if not self.dist_port:
            self.dist_port = server_port()
        for name in ("mnesia", "log"):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        (self.directory / "enabled_plugins").write_text("[].\n")
        (self.directory / "advanced.config").write_text("[].\n")
        # guest may connect over loopback only (RabbitMQ's default), which is all we use.
        (self.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
        )
        if os.geteuid() == 0:
            for path in [self.directory, *self.directory.rglob("*")]:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        self.process = subprocess.Popen(
            _as_rabbitmq([_RABBITMQ_SERVER]),
            env=self._environment(),
            stdout=(self.directory / "server.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the script and the node: one group to kill
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                raise _NodeExited(f"rabbitmq-server exited ({code}): {self._output_tail()}")
            try:
                import amqp  # Celery's own AMQP client

                connection = amqp.Connection(f"127.0.0.1:{self.port}", connect_timeout=1)
                connection.connect()
                connection.close()
                return
            except (OSError, amqp.exceptions.AMQPError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"rabbitmq-server did not start in {timeout} s: {self._output_tail()}")

    def _output_tail(self, lines: int = 15) -> str:
        """The end of the node's own output and of its log, for the error that says why."""
        parts = []
        for path in [self.directory / "server.out", *sorted(self.directory.glob("log/*.log"))]:
            with contextlib.suppress(OSError):
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(parts) or f"no output in {self.directory}"

    def ctl(self, *args: str) -> str:
        """``rabbitmqctl`` against this node, as its user (the Erlang cookie is theirs)."""
        result = subprocess.run(
            _as_rabbitmq([_RABBITMQCTL, "-n", self.node, *args]),
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {result.stderr or result.stdout}")
        return result.stdout

    def stop(self) -> None:
        """SIGKILL to the node, as a crash: what the quorum queues had confirmed is on disk."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
            self.process = None
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and _listening(self.port):
                time.sleep(0.1)


class _NodeExited(Exception):
    pass


def _as_rabbitmq(command: list[str]) -> list[str]:
    """``command`` run as the rabbitmq user when we are root (its files, its Erlang cookie)."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", "--", *command]
    return command


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def private_rabbitmq() -> Iterator[RabbitServer]:
    # Straight under /tmp, as for PostgreSQL: the rabbitmq user must reach it.
    directory = Path(tempfile.mkdtemp(prefix="autofill-rabbit-"))
    server = RabbitServer(directory, server_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def private_postgres(
    host: str = "127.0.0.1",
    trusted_network: str | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[PostgresServer]:
    # Straight under /tmp: the postgres user must be able to reach it (pytest's tmp_path is
    # private to root).
    directory = Path(tempfile.mkdtemp(prefix="autofill-pg-"))
    server = PostgresServer(directory, server_port(), host, trusted_network, settings or {})
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop("immediate")  # unless already down
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new database on the local server (SQLAlchemy URL), dropped afterwards. Raises
    psycopg.OperationalError when the server is not reachable."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until_ready(
    url: str, processes: Sequence[subprocess.Popen[bytes]] = (), timeout: float = 60.0
) -> None:
    """Until ``GET {url}/readyz`` answers 200. RuntimeError if one of ``processes`` (the ones
    serving it) exits first, or when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a process exited before {url} was ready: {process.args!r}")
        try:
            if httpx2.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready within {timeout:g} s")
