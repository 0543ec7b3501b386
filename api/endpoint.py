"""The ``endpoint`` decorator: what every view has in common, declared once.

A view receives a ``Ctx`` (session and workspace) plus its parsed ``body``/``query`` models and
returns a response model. The decorator authenticates, validates, commits on success, rolls back
on any error, and records the schemas so the OpenAPI document is built from the same classes
that validate requests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, g, jsonify, request, session
from flask_wtf.csrf import validate_csrf
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError as CSRFError

from api.body import read_json_object
from api.ratelimit import ApiRateLimiter
from autofill import tracing
from autofill.config import Settings
from autofill.db import Store, Workspace
from autofill.errors import Forbidden, RateLimited, Unauthorized
from autofill.services import (
    EventHub,
    authenticate,
    from_validation_error,
    hash_token,
    web_sessions,
)

SPEC_ATTRIBUTE = "_autofill_endpoint"


@dataclass(frozen=True)
class EndpointSpec:
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    errors: tuple[int, ...] = field(default=())
    # Other successful answers: (status, model), e.g. a dry run's 200 beside a run's 202.
    also: tuple[tuple[int, type[BaseModel]], ...] = field(default=())
    # A streaming answer's media type (text/event-stream) instead of a JSON model.
    stream: str | None = None


@dataclass(frozen=True)
class Reply:
    """A view's answer with a status other than its endpoint's default (one of ``also``)."""

    model: BaseModel
    status: int


@dataclass
class Ctx:
    session: Session
    workspace: Workspace | None  # None only on endpoints that need no token
    settings: Settings

    @property
    def workspace_id(self) -> str:
        assert self.workspace is not None, "this endpoint is not authenticated"
        return self.workspace.id

    @property
    def default_model(self) -> str:
        """For new AI columns that name no model: the workspace's, else the server's."""
        configured = self.workspace.default_model if self.workspace is not None else None
        return configured or self.settings.default_model


def store() -> Store:
    value = current_app.extensions["autofill.store"]
    assert isinstance(value, Store)
    return value


def event_hub() -> EventHub:
    value = current_app.extensions["autofill.event_hub"]
    assert isinstance(value, EventHub)
    return value


def settings() -> Settings:
    value = current_app.extensions["autofill.settings"]
    assert isinstance(value, Settings)
    return value


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _caller(db: Session) -> tuple[Workspace, str]:
    """The request's workspace and its token's hash: from the Authorization header, or from
    the web page's session cookie (the session, on the server, names its token). A cookie is
    sent by the browser on its own, so a change made with one must also carry the page's CSRF
    token (X-CSRFToken), which another site cannot read."""
    header = request.headers.get("Authorization")
    secret = session.get("sid")
    if header is None and secret:
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except CSRFError as exc:
                raise Forbidden(f"missing or invalid X-CSRFToken header: {exc}") from None
        found = web_sessions.resume(db, str(secret), idle_s=settings().web_session_idle_s)
        return found.workspace, found.token_hash
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send `Authorization: Bearer <token>`")
    return authenticate(db, token.strip()), hash_token(token.strip())


def _count_request(token_hash: str) -> None:
    """One request against the token's limit (api.ratelimit); over it: 429."""
    limiter = current_app.extensions["autofill.rate_limiter"]
    assert isinstance(limiter, ApiRateLimiter)
    # Keyed by the token's hash, like its stored form: the secret itself is never a key.
    quota = limiter.check(token_hash)
    if quota is None:
        return
    g.rate_limit_headers = quota.headers()
    if not quota.allowed:
        raise RateLimited(
            f"this token's limit of {quota.limit} requests per "
            f"{limiter.item.get_expiry() if limiter.item else 0} s is reached; "
            f"try again in {quota.reset_in_s} s",
            retry_after_s=quota.reset_in_s,
        )


def _parse(model: type[BaseModel], data: dict[str, Any], prefix: str = "") -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix) from None


def endpoint(
    *,
    summary: str,
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    also: tuple[tuple[int, type[BaseModel]], ...] = (),
    stream: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    spec = EndpointSpec(summary, tag, body, query, response, status, auth, errors, also, stream)

    def wrap(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**path_args: Any) -> Response:
            rule = request.url_rule.rule if request.url_rule is not None else request.path
            with tracing.request_span(request.method, rule, request.headers.get):
                return run(**path_args)

        def run(**path_args: Any) -> Response:
            kwargs: dict[str, Any] = dict(path_args)
            with store().sessions() as session, session.begin():
                # Authenticate first: a caller without a valid token learns nothing else.
                workspace = None
                if auth:
                    workspace, token_hash = _caller(session)
                    _count_request(token_hash)
                if query is not None:
                    kwargs["query"] = _parse(query, request.args.to_dict(), "query")
                if body is not None:
                    kwargs["body"] = _parse(body, read_json_object())
                result = view(Ctx(session, workspace, settings()), **kwargs)
                # Serialise inside the transaction: lazy relationships still load.
                if isinstance(result, Response):
                    return result  # the view chose its own status (e.g. readyz's 503)
                answer_status = status
                if isinstance(result, Reply):
                    answer_status = result.status
                    result = result.model
                payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else None
            if payload is None:
                return Response(status=204 if status == 200 else status)
            out = jsonify(payload)
            out.status_code = answer_status
            return out

        setattr(handler, SPEC_ATTRIBUTE, spec)
        return handler

    return wrap


def spec_of(view: Callable[..., Any]) -> EndpointSpec | None:
    value = getattr(view, SPEC_ATTRIBUTE, None)
    return value if isinstance(value, EndpointSpec) else None
