"""Shared fixtures.

Every test that takes ``store`` (directly or through ``app``/``client``) runs twice: on a SQLite
file and on a throw-away database in the real PostgreSQL at 127.0.0.1:5432. Tables are emptied
between tests; the schema comes from the Alembic migrations, as in production.

PostgreSQL missing: those runs are skipped on a developer's machine, but fail under CI
(``CI=true``) or with ``AUTOFILL_REQUIRE_SERVICES=1`` so a broken service never passes quietly.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from api import create_app
from autofill import clock
from autofill.clock import FakeClock, SystemClock
from autofill.config import Settings, get_settings, use_settings
from autofill.db.migrate import upgrade
from autofill.db.models import Base
from autofill.db.session import Store
from autofill.llm import registry
from autofill.llm.simulator import SimConfig, Simulator
from autofill.services.store import open_store
from autofill.services.workspaces import create_workspace
from bench import netns

POSTGRES_ADMIN = os.environ.get(
    "AUTOFILL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AUTOFILL_TEST_REDIS", "redis://127.0.0.1:6379/15")


class RealNetworkCall(BaseException):
    """A test tried to reach a host off this machine (a real provider, most likely). Hosts in
    network namespaces a test made on this machine (bench.netns) are not off it."""


_resolve = socket.getaddrinfo
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None}


def _loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    if (
        name not in _LOOPBACK
        and not str(name).startswith("127.")
        and not netns.is_test_address(str(name))  # a test's own hosts (bench.netns)
    ):
        raise RealNetworkCall(f"tests talk only to loopback, and something asked for {name!r}")
    return _resolve(host, *args, **kwargs)


# Installed for the whole session: every client (httpx2 in the SDKs, redis, psycopg) resolves
# names through this before it connects.
socket.getaddrinfo = _loopback_only


def require_namespaces() -> None:
    """Test hosts of bench.netns need root, iproute2 and nftables: skip, or fail in CI."""
    reason = netns.available()
    if reason is not None:
        unavailable("network namespaces (ip netns, nft)", RuntimeError(reason))


@pytest.fixture
def network() -> Iterator[netns.Network]:
    """A bridge of the test's own, for hosts it adds (bench.netns); removed afterwards."""
    require_namespaces()
    with netns.network() as net:
        yield net


def services_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("AUTOFILL_REQUIRE_SERVICES") == "1"
    )


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def fresh_postgres(prefix: str = "autofill_test") -> Iterator[str]:
    """A new, empty database on the local server (its SQLAlchemy URL), dropped after."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local server, dropped at the end of the session."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'autofill.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def migrated_store(database_url: str) -> Iterator[Store]:
    store = open_store(database_url)
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture
def store(migrated_store: Store) -> Iterator[Store]:
    yield migrated_store
    with migrated_store.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, redis_url=None)


@pytest.fixture
def app(store: Store, settings: Settings) -> Iterator[Flask]:
    made = create_app({"TESTING": True, "STORE": store, "SETTINGS": settings, "MIGRATE": False})
    yield made
    # A stream started the app's event hub: its listening connection goes with the test.
    made.extensions["autofill.event_hub"].stop()


@dataclass
class Caller:
    """A test client bound to one workspace's token."""

    client: FlaskClient
    token: str
    workspace_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def __getattr__(self, method: str) -> Any:
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)

        def call(path: str, json: Any = None, **kwargs: Any) -> Any:
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(path, json=json, headers=headers, **kwargs)

        return call


def _caller(app: Flask, store: Store, name: str) -> Caller:
    with store.transaction() as session:
        workspace, token = create_workspace(session, name)
    return Caller(app.test_client(), token, workspace.id)


@pytest.fixture
def api(app: Flask, store: Store) -> Caller:
    return _caller(app, store, "Acme")


@pytest.fixture
def other_api(app: Flask, store: Store) -> Caller:
    return _caller(app, store, "Globex")


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Assert the error envelope and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert field in error["fields"], error
        assert error["fields"][field]
    return error  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    with Simulator() as server:
        yield server


@pytest.fixture
def sim(simulator_server: Simulator, configure: Configure) -> Simulator:
    """The LLM simulator, reset to no latency and no faults for each test."""
    simulator_server.state.configure(SimConfig(retry_after_s=0.05))
    simulator_server.reset()
    configure(sim_url=simulator_server.openai_base_url)  # sim: models are answered here
    return simulator_server


Configure = Callable[..., Settings]


@pytest.fixture(autouse=True)
def _process_seams() -> Iterator[None]:
    """Each test starts on the environment's settings, the providers they describe and the
    system's clock; whatever it installs in their place is undone after it."""
    settings, registered, time = use_settings(None), registry.use(None), clock.use(SystemClock())
    yield
    use_settings(settings)
    registry.use(registered)
    clock.use(time)


@pytest.fixture
def configure() -> Configure:
    """``configure(field=value, ...)`` installs the process's settings with those fields
    changed (what a deployment would set in its environment), for this test."""

    def install(**fields: Any) -> Settings:
        settings = Settings(**{**get_settings().model_dump(), **fields})
        use_settings(settings)
        return settings

    return install


@pytest.fixture
def fake_clock() -> FakeClock:
    """The process's clock, standing still until a test moves it; its sleeps return at once
    and are listed in ``slept``."""
    fake = FakeClock()
    clock.use(fake)
    return fake


@pytest.fixture
def providers(sim: Simulator, configure: Configure) -> Simulator:
    """Every provider kind pointed at the simulator through its documented settings."""
    configure(
        openai_api_key="sk-sim-openai",
        openai_base_url=sim.openai_base_url,
        anthropic_api_key="sk-sim-anthropic",
        anthropic_base_url=sim.base_url,
        compat={"LOCAL_LLAMA": {"base_url": sim.openai_base_url, "model": "llama-3.1-8b"}},
    )
    return sim
