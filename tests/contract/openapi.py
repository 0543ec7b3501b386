"""Validating bodies against the slice of OpenAI's OpenAPI document in data/ (see
slice_openapi.py for where it comes from), with every object closed.

The document leaves most objects open (no ``additionalProperties: false``) and builds requests
from ``allOf`` parts, so a misspelt field would pass. Here each ``allOf`` of objects is merged
into one object and every object that lists its properties is closed: a field the document does
not name is an error. ``nullable: true`` (an OpenAPI 3.0 keyword the document still uses) adds
``null`` to the type. Nothing else of the document is changed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SLICE = Path(__file__).with_name("data") / "openai-chat-completions.json"
URI = "urn:openai-openapi-slice"


@cache
def _document() -> dict[str, Any]:
    raw = json.loads(SLICE.read_text(encoding="utf-8"))
    schemas = raw["components"]["schemas"]
    closed = {name: _close(_merge(schema, schemas), schemas) for name, schema in schemas.items()}
    return {"components": {"schemas": closed}, "_source": raw["_source"]}


def source() -> dict[str, Any]:
    found: dict[str, Any] = _document()["_source"]
    return found


def validator(name: str) -> Draft202012Validator:
    document = _document()
    registry: Registry[Any] = Registry().with_resource(URI, DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"{URI}#/components/schemas/{name}"}, registry=registry)


def errors(name: str, value: Any) -> list[str]:
    found = validator(name).iter_errors(value)
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"[:300] for e in found]


def _resolve(node: Any, schemas: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        node = schemas[node["$ref"].rsplit("/", 1)[1]]
    return node


def _merge(node: Any, schemas: dict[str, Any]) -> Any:
    """allOf of objects → one object with every part's properties and requirements."""
    if isinstance(node, list):
        return [_merge(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _merge(value, schemas) for key, value in node.items()}
    parts = node.get("allOf")
    if isinstance(parts, list):
        resolved = [_merge(_resolve(part, schemas), schemas) for part in parts]
        if all(
            isinstance(p, dict) and (p.get("type") == "object" or "properties" in p)
            for p in resolved
        ):
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for part in resolved:
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            rest = {k: v for k, v in node.items() if k != "allOf"}
            return {**rest, **merged}
    return node


def _close(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_close(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        key: (value if key == "properties" else _close(value, schemas))
        for key, value in node.items()
    }
    if isinstance(node.get("properties"), dict):
        node["properties"] = {k: _close(v, schemas) for k, v in node["properties"].items()}
        node.setdefault("additionalProperties", False)
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    return node
