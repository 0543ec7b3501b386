"""Health checks and the OpenAPI document."""

from __future__ import annotations

import hmac
from typing import Literal

import redis
from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from api.endpoint import Ctx, endpoint, settings, store
from api.openapi import build_openapi
from autofill import metrics as fill_metrics
from autofill.config import broker_kind
from autofill.errors import Unauthorized
from autofill.logs import get_logger

bp = Blueprint("meta", __name__)
TAG = "meta"
log = get_logger(__name__)


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


@bp.get("/healthz")
@bp.get("/v1/healthz")
@endpoint(summary="Liveness: the process answers", tag=TAG, response=Health, auth=False)
def healthz(ctx: Ctx) -> Health:
    return Health(status="ok")


@bp.get("/readyz")
@bp.get("/v1/readyz")
@endpoint(
    summary="Readiness: the database (and Redis and the broker, when configured) answer",
    tag=TAG,
    response=Readiness,
    auth=False,
    errors=(503,),
)
def readyz(ctx: Ctx) -> Response:
    checks = {"database": _check_database()}
    redis_url = settings().redis_url
    checks["redis"] = _check_redis(redis_url) if redis_url else "not configured"
    broker_url = settings().broker_url
    if broker_kind(broker_url) == "amqp":
        checks["broker"] = _check_amqp(str(broker_url))
    ready = all(value in ("ok", "not configured") for value in checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    response = jsonify(body.model_dump())
    response.status_code = 200 if ready else 503
    return response


def _check_database() -> str:
    try:
        store().ping()
        return "ok"
    except SQLAlchemyError as exc:
        log.warning("readyz_database_failed", error=str(exc))
        return "unreachable"


def _check_amqp(url: str) -> str:
    from kombu import Connection  # only where RabbitMQ is the broker
    from kombu.exceptions import OperationalError

    with Connection(url, connect_timeout=2) as connection:
        failures: tuple[type[BaseException], ...] = (
            OperationalError,
            *connection.connection_errors,
        )
        try:
            connection.ensure_connection(max_retries=1)
            return "ok"
        except failures as exc:
            log.warning("readyz_broker_failed", error=str(exc))
            return "unreachable"


def _check_redis(url: str) -> str:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except redis.RedisError as exc:
        log.warning("readyz_redis_failed", error=str(exc))
        return "unreachable"


@bp.get("/v1/openapi.json")
def openapi() -> Response:
    return jsonify(build_openapi(current_app))


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus's text format, every API process's metrics (and, in embedded mode, the
    fills run inside them): autofill.metrics. Not part of the JSON API, so not in the OpenAPI
    document. With ``AUTOFILL_METRICS_TOKEN`` set, a scrape must send it as a bearer token."""
    token = settings().metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            raise Unauthorized("/metrics needs the AUTOFILL_METRICS_TOKEN bearer token")
    body, content_type = fill_metrics.exposition(request.headers.get("Accept", ""))
    return Response(body, content_type=content_type)
