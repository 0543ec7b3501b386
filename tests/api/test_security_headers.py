"""Protective headers (issue 24): every HTML page — each GET route of the web page, taken from
the app's route list so a new page cannot be missed, signed in and signed out — carries the
strict CSP, frame-ancestors 'none', X-Frame-Options, nosniff and Referrer-Policy; JSON and
static files carry nosniff and the referrer policy."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import Caller
from tests.helpers import make_database


def _sign_in(app: Flask, api: Caller) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    client.post("/login", data={"token": api.token, "csrf_token": found.group(1)})
    return client


def _html_routes(app: Flask, values: dict[str, str]) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or "GET" not in (rule.methods or ()):
            continue
        built = rule.build({name: values.get(name, "nope") for name in rule.arguments})
        assert built is not None, rule
        paths.append(built[1])
    return paths


def _assert_protected(response_headers: dict[str, str], path: str) -> None:
    assert response_headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, path
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response_headers.get("X-Frame-Options") == "DENY", path
    assert response_headers.get("X-Content-Type-Options") == "nosniff", path
    assert response_headers.get("Referrer-Policy") == "same-origin", path


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_html_route_sends_the_protective_headers(
    app: Flask, api: Caller, signed_in: bool
) -> None:
    database = make_database(api)
    prop = next(p for p in database["properties"] if p["type"] == "title")
    values = {"database_id": database["id"], "property_id": prop["id"], "name": "nope"}
    client = _sign_in(app, api) if signed_in else app.test_client()
    paths = _html_routes(app, values)
    assert "/login" in paths and f"/databases/{database['id']}" in paths and len(paths) >= 6
    html_seen = 0
    for path in paths:
        response = client.get(path)
        if response.mimetype == "text/html":
            html_seen += 1
            _assert_protected(dict(response.headers), path)
        else:  # a redirect to the sign-in page, signed out
            assert response.status_code in (301, 302), (path, response.status_code)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert html_seen >= (len(paths) - 1 if signed_in else 1)
    if signed_in:  # the page for what is not there, too
        missing = client.get("/databases/db_nope")
        assert missing.status_code == 404 and missing.mimetype == "text/html"
        _assert_protected(dict(missing.headers), "/databases/db_nope")


def test_json_and_static_files_are_never_sniffed(app: Flask, api: Caller) -> None:
    for response in (
        api.get("/v1/databases"),
        app.test_client().get("/static/table.js"),
        app.test_client().get("/v1/openapi.json"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
