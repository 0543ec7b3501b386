from __future__ import annotations

import socket

import pytest
import redis

from api import create_app
from autofill.config import Settings
from autofill.db.session import Store
from autofill.services.store import open_store
from tests.conftest import REDIS_URL, unavailable


def test_healthz_needs_no_token(app) -> None:  # type: ignore[no-untyped-def]
    for path in ("/healthz", "/v1/healthz"):
        response = app.test_client().get(path)
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_without_redis(app) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/v1/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured"},
    }


def _app(store: Store, settings: Settings, redis_url: str):  # type: ignore[no-untyped-def]
    configured = settings.model_copy(update={"redis_url": redis_url})
    return create_app({"STORE": store, "SETTINGS": configured, "MIGRATE": False})


def test_readyz_with_real_redis(store: Store, settings: Settings) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    response = _app(store, settings, REDIS_URL).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_reports_unreachable_redis(store: Store, settings: Settings) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    response = _app(store, settings, f"redis://127.0.0.1:{port}/0").test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unreachable"},
    }


def test_readyz_reports_unreachable_database(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = open_store(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    response = (
        create_app({"STORE": broken, "SETTINGS": settings, "MIGRATE": False})
        .test_client()
        .get("/readyz")
    )
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_is_not_under_auth(app, path: str) -> None:  # type: ignore[no-untyped-def]
    assert app.test_client().get(path, headers={"Authorization": "Bearer wrong"}).status_code == 200


# The machine's RabbitMQ (127.0.0.1:5672, guest/guest), as the README and CI have it.
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _amqp_app(store: Store, settings: Settings, broker_url: str):  # type: ignore[no-untyped-def]
    configured = settings.model_copy(update={"redis_url": None, "broker_url": broker_url})
    return create_app({"STORE": store, "SETTINGS": configured, "MIGRATE": False})


def test_readyz_checks_a_rabbitmq_broker(store: Store, settings: Settings) -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        unavailable("RabbitMQ", exc)
    response = _amqp_app(store, settings, RABBITMQ_URL).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {
        "database": "ok",
        "redis": "not configured",
        "broker": "ok",
    }


def test_readyz_reports_an_unreachable_rabbitmq_broker(store: Store, settings: Settings) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"amqp://guest:guest@127.0.0.1:{port}//"
    response = _amqp_app(store, settings, url).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["broker"] == "unreachable"
