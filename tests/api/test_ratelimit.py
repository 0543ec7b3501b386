"""Per-token API request limits: 429 with Retry-After, shared through Redis, fail open."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import redis
from flask import Flask
from pydantic import ValidationError

from api.app import create_app
from autofill.config import Settings
from autofill.db.migrate import upgrade
from autofill.db.session import Store
from autofill.services.store import open_store
from tests.conftest import Caller, _caller, assert_error

REDIS_URL = "redis://127.0.0.1:6379/0"


def _app(store: Store, tmp_path: Path, database_url: str, **settings: object) -> Flask:
    configured = Settings(data_dir=tmp_path, database_url=database_url, **settings)  # type: ignore[arg-type]
    return create_app({"TESTING": True, "STORE": store, "SETTINGS": configured, "MIGRATE": False})


@pytest.fixture
def limited(store: Store, tmp_path: Path, database_url: str) -> Flask:
    return _app(store, tmp_path, database_url, api_rate_limit="5/minute", redis_url=None)


def test_over_the_limit_a_token_gets_429_with_retry_after(limited: Flask, store: Store) -> None:
    api = _caller(limited, store, "Acme")
    remaining = []
    for _ in range(5):
        response = api.get("/v1/databases")
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]

    refused = api.get("/v1/databases")
    body = assert_error(refused, 429, "rate_limited")
    assert "5 requests per 60 s" in body["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    # Writes are refused too, and refused before they change anything.
    created = api.post("/v1/databases", json={"name": "Late", "properties": []})
    assert_error(created, 429, "rate_limited")


def test_the_limit_is_per_token(limited: Flask, store: Store) -> None:
    first = _caller(limited, store, "Acme")
    second = _caller(limited, store, "Globex")
    for _ in range(5):
        assert first.get("/v1/databases").status_code == 200
    assert first.get("/v1/databases").status_code == 429
    assert second.get("/v1/databases").status_code == 200


def test_unauthenticated_requests_are_not_counted_against_a_token(
    limited: Flask, store: Store
) -> None:
    api = _caller(limited, store, "Acme")
    client = limited.test_client()
    for _ in range(10):
        bad = client.get("/v1/databases", headers={"Authorization": "Bearer af_not-a-token"})
        assert bad.status_code == 401
    assert api.get("/v1/databases").status_code == 200


def test_processes_share_the_count_through_redis(
    store: Store, tmp_path: Path, database_url: str
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:  # pragma: no cover - the services are part of the setup
        pytest.fail(f"Redis is needed for this test: {exc}")
    # Two apps stand for two API processes behind one load balancer.
    one = _app(store, tmp_path, database_url, api_rate_limit="4/minute", redis_url=REDIS_URL)
    two = _app(store, tmp_path, database_url, api_rate_limit="4/minute", redis_url=REDIS_URL)
    api_one = _caller(one, store, f"Acme {secrets.token_hex(4)}")
    api_two = Caller(two.test_client(), api_one.token, api_one.workspace_id)
    assert [api_one.get("/v1/databases").status_code for _ in range(2)] == [200, 200]
    assert [api_two.get("/v1/databases").status_code for _ in range(2)] == [200, 200]
    assert api_one.get("/v1/databases").status_code == 429
    assert api_two.get("/v1/databases").status_code == 429


def test_an_unreachable_counter_lets_requests_through(
    store: Store, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app = _app(store, tmp_path, database_url, api_rate_limit="1/minute", redis_url=dead)
    api = _caller(app, store, "Acme")
    for _ in range(3):
        response = api.get("/v1/databases")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers
    captured = capsys.readouterr()
    assert "api_rate_limit_unavailable" in captured.out + captured.err


def test_an_empty_limit_turns_limits_off(store: Store, tmp_path: Path, database_url: str) -> None:
    app = _app(store, tmp_path, database_url, api_rate_limit="", redis_url=None)
    api = _caller(app, store, "Acme")
    response = api.get("/v1/databases")
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers


def test_a_bad_limit_is_refused_at_start_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(data_dir=tmp_path, api_rate_limit="lots please")
    assert "api_rate_limit" in str(caught.value)


def test_openapi_documents_429_on_authenticated_endpoints(api: Caller) -> None:
    spec = api.get("/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = "429" in operation["responses"]
            assert documented == (operation.get("security") != []), (method, path)


def test_processes_share_the_count_through_postgresql_without_redis(
    postgres_url: str, tmp_path: Path
) -> None:
    # RabbitMQ as the broker and no Redis: the database is the shared counter
    # (autofill.db.limits). The broker is never connected to here.
    store = open_store(postgres_url)
    upgrade(store)
    try:
        broker = "amqp://guest:guest@127.0.0.1:5672//"
        one = _app(store, tmp_path, postgres_url, api_rate_limit="3/minute", broker_url=broker)
        two = _app(store, tmp_path, postgres_url, api_rate_limit="3/minute", broker_url=broker)
        api_one = _caller(one, store, f"Acme {secrets.token_hex(4)}")
        api_two = Caller(two.test_client(), api_one.token, api_one.workspace_id)
        assert [api_one.get("/v1/databases").status_code for _ in range(2)] == [200, 200]
        assert api_two.get("/v1/databases").status_code == 200
        assert api_two.get("/v1/databases").status_code == 429
        assert api_one.get("/v1/databases").status_code == 429
    finally:
        store.dispose()
