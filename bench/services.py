"""Real services of their own for benchmarks (and the topology tests): a PostgreSQL database, a
PostgreSQL server of its own (to restart at will), a Redis server on a private port, free
loopback ports."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class RedisServer:
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
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

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        data = str(self.directory / "data")
        self._run(_postgres_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
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


@contextmanager
def private_postgres() -> Iterator[PostgresServer]:
    # Straight under /tmp: the postgres user must be able to reach it (pytest's tmp_path is
    # private to root).
    directory = Path(tempfile.mkdtemp(prefix="autofill-pg-"))
    server = PostgresServer(directory, free_port())
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
