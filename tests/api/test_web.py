"""The web page's server side: sign-in, the session cookie, CSRF, pages, and the API called
with the cookie."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Caller, assert_error
from tests.helpers import SENTIMENT, make_database


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _signed_in(app: Flask, api: Caller) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login", data={"token": api.token, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/databases")
    return client, _csrf(client, "/databases")


def test_sign_in_sets_a_safe_session_cookie(app: Flask, api: Caller) -> None:
    client = app.test_client()
    token = _csrf(client)
    response = client.post("/login", data={"token": api.token, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert api.token not in cookie  # signed, and the token is not readable in it as text


def test_a_bad_token_or_a_missing_csrf_token_is_refused(app: Flask, api: Caller) -> None:
    client = app.test_client()
    token = _csrf(client)
    wrong = client.post("/login", data={"token": "af_nope", "csrf_token": token})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.get_data(as_text=True)
    forged = client.post("/login", data={"token": api.token})
    assert forged.status_code == 400
    assert client.get("/databases").status_code == 302  # still signed out


def test_pages_list_databases_and_show_a_table(app: Flask, api: Caller) -> None:
    database = make_database(api)
    api.post(f"/v1/databases/{database['id']}/properties", json=SENTIMENT)
    client, _ = _signed_in(app, api)
    listing = client.get("/databases").get_data(as_text=True)
    assert "Interviews" in listing and f"/databases/{database['id']}" in listing
    page = client.get(f"/databases/{database['id']}").get_data(as_text=True)
    assert 'data-type="ai"' in page and "Sentiment" in page
    assert 'name="viewport"' in page
    assert client.get("/databases/db_nope").status_code == 404


def test_the_api_takes_the_cookie_and_wants_csrf_for_changes(
    app: Flask, api: Caller, other_api: Caller
) -> None:
    database = make_database(api)
    client, csrf = _signed_in(app, api)
    assert client.get(f"/v1/databases/{database['id']}").status_code == 200
    rows = f"/v1/databases/{database['id']}/rows"
    assert_error(client.post(rows, json={"content": "x"}), 403, "forbidden")
    created = client.post(rows, json={"content": "x"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    other = make_database(other_api)
    assert client.get(f"/v1/databases/{other['id']}").status_code == 404


def test_sign_out_ends_the_session(app: Flask, api: Caller) -> None:
    client, csrf = _signed_in(app, api)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/databases").status_code == 302
    assert_error(client.get("/v1/databases"), 401, "unauthorized")
