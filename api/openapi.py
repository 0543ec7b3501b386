"""The OpenAPI 3.1 document, built from the app's routes and the models their endpoints declare.

Nothing here is written by hand per endpoint: add a view with ``@endpoint`` and it appears.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.endpoint import EndpointSpec, spec_of
from api.errors import ErrorEnvelope

_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_STATUS_TEXT = {
    400: "Malformed request (not JSON, not UTF-8, too deeply nested)",
    401: "Missing, unknown or revoked token",
    404: "Not found in this workspace",
    409: "Conflicts with existing data",
    413: "Request body or page content over its size limit",
    415: "Body is not application/json",
    422: "Invalid input; `fields` names each bad field",
    429: "The token's request limit is reached; `Retry-After` says when to try again",
    503: "A dependency is unavailable",
}


_SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "One server-sent event: a cell changed (status, value or error)",
    "properties": {
        "id": {"type": "string", "description": "Position; send it back as Last-Event-ID"},
        "event": {"type": "string", "const": "cell"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "The cell as JSON: row_id, property_id, status, value, error, "
            "error_code, model, prompt_version, tokens_in, tokens_out, cost_usd, truncated, "
            "filled_at",
        },
    },
    "required": ["id", "event", "data"],
}


def build_openapi(app: Flask) -> dict[str, Any]:
    operations: list[tuple[str, str, EndpointSpec]] = []
    for rule in app.url_map.iter_rules():
        spec = spec_of(app.view_functions[rule.endpoint])
        if spec is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), spec))

    models = _models(operations)
    modes: tuple[Literal["validation", "serialization"], ...] = ("validation", "serialization")
    keyed = [(model, mode) for model in models for mode in modes]
    refs, definitions = models_json_schema(keyed, ref_template="#/components/schemas/{model}")

    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec in operations:
        paths.setdefault(path, {})[method] = _operation(path, method, spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Autofill API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _models(operations: list[tuple[str, str, EndpointSpec]]) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [ErrorEnvelope]
    for _, _, spec in operations:
        for model in (spec.body, spec.query, spec.response, *(m for _, m in spec.also)):
            if model is not None and model not in models:
                models.append(model)
    return models


def _operation(
    path: str, method: str, spec: EndpointSpec, refs: dict[Any, dict[str, Any]]
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([a-z_]+)}", path)
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema(ref_template="#/components/schemas/{model}")
        required = set(schema.get("required", []))
        for name, field_schema in schema["properties"].items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": field_schema}
            )
    responses: dict[str, Any] = {}
    if spec.stream is not None:
        responses[str(spec.status)] = {
            "description": spec.summary,
            # Before Open API 3.2 (itemSchema), a stream's `schema` describes each event.
            "content": {spec.stream: {"schema": _SSE_EVENT}},
        }
    elif spec.response is not None:
        responses[str(spec.status)] = {
            "description": spec.summary,
            "content": {"application/json": {"schema": refs[(spec.response, "serialization")]}},
        }
        for other_status, model in spec.also:
            responses[str(other_status)] = {
                "description": spec.summary,
                "content": {"application/json": {"schema": refs[(model, "serialization")]}},
            }
    else:
        responses["204"] = {"description": "Done; no content"}
    error_ref = refs[(ErrorEnvelope, "serialization")]
    statuses = set(spec.errors) | ({401, 429} if spec.auth else set())
    if spec.body is not None:
        statuses |= {400, 413, 415, 422}
    if spec.query is not None:
        statuses.add(422)
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": error_ref}},
        }
    operation: dict[str, Any] = {
        "operationId": f"{method}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if not spec.auth:
        operation["security"] = []
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    return operation
