"""The Flask app factory."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFProtect

from api.cookies import install as install_cookies
from api.errors import register_error_handlers
from api.ratelimit import ApiRateLimiter
from api.routes import cells, databases, events, meta, properties, rows, runs, workspace
from api.security_headers import install as install_security_headers
from api.web import bp as web_bp
from autofill.config import Settings, get_settings
from autofill.db import Store, upgrade
from autofill.logs import get_logger
from autofill.services import EventHub, open_store

log = get_logger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` may carry SETTINGS (a Settings), STORE (a Store) or
    MIGRATE (run migrations on start; the embedded default does, so a bare machine just works)."""
    app = Flask(__name__)
    config = test_config or {}
    settings: Settings = config.get("SETTINGS") or get_settings()
    store: Store = config.get("STORE") or open_store(settings.resolved_database_url())
    if config.get("MIGRATE", settings.database_url is None):
        upgrade(store)

    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,  # Werkzeug answers 413 before parsing
        TESTING=bool(config.get("TESTING", False)),
        SECRET_KEY=settings.resolved_secret_key(),
        # The web page keeps the token in this cookie: never readable by scripts, not sent on
        # cross-site requests, HTTPS-only when AUTOFILL_SECURE_COOKIES is set.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session's life, not an hour
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["autofill.store"] = store
    app.extensions["autofill.settings"] = settings
    # Started by the first events stream, in the process that serves it (after gunicorn forks).
    app.extensions["autofill.event_hub"] = EventHub(store)
    app.extensions["autofill.rate_limiter"] = config.get("RATE_LIMITER") or ApiRateLimiter(
        settings.api_rate_limit, settings.redis_url, settings.limits_database_url()
    )

    install_cookies(app, settings.trusted_proxies)
    csrf = CSRFProtect(app)
    for blueprint in (
        workspace.bp,
        databases.bp,
        properties.bp,
        rows.bp,
        cells.bp,
        runs.bp,
        events.bp,
        meta.bp,
    ):
        # Bearer-token calls need no CSRF token; cookie-authenticated changes are checked in
        # api.endpoint (X-CSRFToken), where the way the caller authenticated is known.
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(web_bp)
    register_error_handlers(app)
    install_security_headers(app)
    _log_requests(app)
    return app


def _log_requests(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _done(response: Response) -> Response:
        # Where the caller stands against its token's limit (api.ratelimit), 429s included.
        for name, value in g.get("rate_limit_headers", {}).items():
            response.headers[name] = value
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round(elapsed, 1),
        )
        return response
