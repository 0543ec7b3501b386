from __future__ import annotations

from flask import Flask
from openapi_spec_validator import validate

from api.openapi import build_openapi
from tests.conftest import Caller


def test_document_is_valid_openapi(app: Flask) -> None:
    response = app.test_client().get("/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    validate(response.get_json())


def test_every_route_is_documented(app: Flask) -> None:
    spec = build_openapi(app)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "meta.openapi", "meta.metrics"):
            continue  # the document itself; Prometheus's text format (autofill.metrics)
        if rule.endpoint.startswith("web."):
            continue  # the web page's HTML routes are not part of the REST API
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_schemas_are_the_validating_models(app: Flask) -> None:
    spec = build_openapi(app)
    body = spec["paths"]["/v1/databases/{database_id}/properties"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = spec["components"]["schemas"][ref]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"name", "type", "options", "ai", "position"}
    task = spec["components"]["schemas"]["Task"]
    assert task["enum"] == ["summary", "key_info", "translate", "classify", "custom"]
    rows = spec["paths"]["/v1/databases/{database_id}/rows"]["get"]
    assert {p["name"] for p in rows["parameters"]} == {
        "database_id",
        "limit",
        "cursor",
        "status",
        "property_id",
    }
    assert {"401", "404", "422"} <= set(rows["responses"])


def test_responses_match_their_schema(api: Caller, app: Flask) -> None:
    """A response validated against the documented schema (with jsonschema, via the spec)."""
    import jsonschema

    spec = build_openapi(app)
    response = api.post(
        "/v1/databases", json={"name": "x", "properties": [{"name": "T", "type": "title"}]}
    )
    ref = spec["paths"]["/v1/databases"]["post"]["responses"]["201"]["content"]["application/json"][
        "schema"
    ]
    jsonschema.validate(
        response.get_json(), {"$ref": ref["$ref"], "components": spec["components"]}
    )
    error = api.post("/v1/databases", json={})
    envelope = spec["paths"]["/v1/databases"]["post"]["responses"]["422"]["content"][
        "application/json"
    ]["schema"]
    jsonschema.validate(
        error.get_json(), {"$ref": envelope["$ref"], "components": spec["components"]}
    )
