"""One JSON error envelope for everything: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from autofill.errors import AutofillError, RateLimited
from autofill.logs import get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error")
    message: str = Field(description="What went wrong, for a person")
    fields: dict[str, str] = Field(description="Field path → message, for invalid input")


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ApiError(AutofillError):
    """An HTTP-level refusal (malformed body, wrong media type) before the domain is reached."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message, fields)
        self.status = status
        self.code = code


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "fields": fields or {}}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="autofill"'
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AutofillError)
    def _domain(exc: AutofillError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.fields)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = error_response(status, _http_code(exc), message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        # Reached only when two requests race past the same uniqueness check.
        log.warning("integrity_error", error=str(exc.orig))
        return error_response(409, "conflict", "the change conflicts with a concurrent change")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled_error")
        return error_response(500, "internal_error", "internal error; it has been logged")
