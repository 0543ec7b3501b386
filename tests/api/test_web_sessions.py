"""Server-side web sessions (issue 24): the cookie holds an opaque session id, never the token;
a cookie replayed after sign-out, after its token's revocation, after idling or past its end
opens nothing — on the pages or on /v1."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select, update

from autofill.db import ApiToken, Store, WebSession, utcnow
from autofill.services.workspaces import hash_token, revoke_token
from tests.conftest import Caller, assert_error


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(True))
    assert found
    return found.group(1)


def _sign_in(app: Flask, api: Caller) -> tuple[FlaskClient, str]:
    client = app.test_client()
    response = client.post(
        "/login", data={"token": api.token, "csrf_token": _csrf(client, "/login")}
    )
    assert response.status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return client, cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """A new browser holding a copy of the cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def _works(client: FlaskClient) -> bool:
    page = client.get("/databases")
    api = client.get("/v1/databases")
    assert (page.status_code == 200) == (api.status_code == 200), (page.status, api.status)
    if api.status_code != 200:
        assert page.status_code == 302 and page.headers["Location"].endswith("/login")
        assert_error(api, 401, "unauthorized")
    return api.status_code == 200


def test_the_cookie_holds_an_opaque_session_id_not_the_token(app: Flask, api: Caller) -> None:
    _, cookie = _sign_in(app, api)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    payload: dict[str, Any] = serializer.loads(cookie)
    assert set(payload) <= {"sid", "csrf_token"} and "sid" in payload
    assert api.token not in cookie and api.token not in str(payload)
    # The server keeps only the id's hash.
    with app.extensions["autofill.store"].transaction() as db:
        stored = db.scalars(select(WebSession.id_hash)).all()
    assert hash_token(payload["sid"]) in stored and payload["sid"] not in stored


def test_a_cookie_replayed_after_sign_out_opens_nothing(app: Flask, api: Caller) -> None:
    client, cookie = _sign_in(app, api)
    assert _works(_replay(app, cookie))
    assert (
        client.post("/logout", data={"csrf_token": _csrf(client, "/databases")}).status_code == 302
    )
    assert not _works(_replay(app, cookie))
    assert not _works(client)


def test_revoking_the_token_ends_its_sessions(app: Flask, api: Caller, store: Store) -> None:
    _, cookie = _sign_in(app, api)
    _, other_cookie = _sign_in(app, api)
    with store.transaction() as db:
        token = db.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(api.token))
        ).one()
        revoke_token(db, token.id)
    assert not _works(_replay(app, cookie))
    assert not _works(_replay(app, other_cookie))


def test_an_idle_session_and_an_old_one_expire(app: Flask, api: Caller, store: Store) -> None:
    idle_s = app.extensions["autofill.settings"].web_session_idle_s
    _, idle = _sign_in(app, api)
    _, old = _sign_in(app, api)
    _, fresh = _sign_in(app, api)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None

    def moved(cookie: str, **values: Any) -> None:
        digest = hash_token(serializer.loads(cookie)["sid"])
        with store.transaction() as db:
            db.execute(update(WebSession).where(WebSession.id_hash == digest).values(**values))

    now = utcnow()
    moved(idle, last_used_at=now - timedelta(seconds=idle_s + 1))
    moved(old, expires_at=now - timedelta(seconds=1))
    assert not _works(_replay(app, idle))
    assert not _works(_replay(app, old))
    assert _works(_replay(app, fresh))
    # Used within the idle time, a session stays open (its last use moves on).
    moved(fresh, last_used_at=now - timedelta(seconds=idle_s - 120))
    assert _works(_replay(app, fresh))
    assert _works(_replay(app, fresh))


def test_the_api_still_wants_the_csrf_header_with_a_session(app: Flask, api: Caller) -> None:
    client, _ = _sign_in(app, api)
    assert_error(client.post("/v1/databases", json={"name": "X"}), 403, "forbidden")
    created = client.post(
        "/v1/databases",
        json={"name": "X", "properties": [{"name": "Name", "type": "title"}]},
        headers={"X-CSRFToken": _csrf(client, "/databases")},
    )
    assert created.status_code == 201, created.get_json()
