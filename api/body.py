"""Reading a JSON request body strictly, before pydantic sees it.

Every refusal here is a 4xx naming what is wrong: the wrong media type (415), a body that is not
UTF-8 JSON or nests absurdly deep (400), a string no database can store (422).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from api.errors import ApiError

MAX_DEPTH = 32


def read_json_object() -> dict[str, Any]:
    if not request.mimetype or request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH before reading
    if not raw.strip():
        raise ApiError(400, "bad_request", "the request body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "bad_request", f"the body is not valid UTF-8 (byte {exc.start})"
        ) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError(400, "bad_request", "the JSON body nests too deeply") from None
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    _check(data, "", 0)
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check(value: Any, path: str, depth: int) -> None:
    """Refuse nesting past MAX_DEPTH and strings with NUL or lone surrogates anywhere."""
    if depth > MAX_DEPTH:
        raise ApiError(400, "bad_request", f"the JSON body nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        _check_string(value, path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            _check_string(key, child)
            _check(item, child, depth + 1)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check(item, f"{path}[{position}]", depth + 1)


def _check_string(value: str, path: str) -> None:
    try:
        value.encode("utf-8")  # fails (in C, fast) on lone surrogates, which JSON can smuggle in
        storable = "\x00" not in value  # PostgreSQL text and jsonb cannot hold NUL
    except UnicodeEncodeError:
        storable = False
    if not storable:
        message = "must not contain NUL characters or unpaired surrogates"
        raise ApiError(422, "validation_error", f"{path} {message}", {path: message})
