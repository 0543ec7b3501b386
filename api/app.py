"""The Flask app factory."""

from __future__ import annotations

import time
from typing import Any

import structlog
from flask import Flask, Response, g, request

from api.errors import register_error_handlers
from api.routes import cells, databases, events, meta, properties, rows, runs, workspace
from autofill.config import Settings, get_settings
from autofill.db.migrate import upgrade
from autofill.db.session import Store

log = structlog.get_logger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` may carry SETTINGS (a Settings), STORE (a Store) or
    MIGRATE (run migrations on start; the embedded default does, so a bare machine just works)."""
    app = Flask(__name__)
    config = test_config or {}
    settings: Settings = config.get("SETTINGS") or get_settings()
    store: Store = config.get("STORE") or Store(settings.resolved_database_url())
    if config.get("MIGRATE", settings.database_url is None):
        upgrade(store)

    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,  # Werkzeug answers 413 before parsing
        TESTING=bool(config.get("TESTING", False)),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["autofill.store"] = store
    app.extensions["autofill.settings"] = settings

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
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    _log_requests(app)
    return app


def _log_requests(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _done(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round(elapsed, 1),
        )
        return response
