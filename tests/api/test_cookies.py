"""The session cookie is Secure on HTTPS (issue 24): on a request that came over HTTPS, through a
declared reverse proxy's X-Forwarded-Proto, or always with AUTOFILL_SECURE_COOKIES; a client
that sends X-Forwarded-Proto itself, with no proxy declared, is not believed."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from api import create_app
from autofill.config import Settings
from autofill.db import Store
from tests.conftest import Caller


def _sign_in_cookie(app: Flask, api: Caller, **request: Any) -> str:
    client = app.test_client()
    page = client.get("/login", **request).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    # Over HTTPS, Flask-WTF also wants a same-origin Referer, as a browser sends with the form.
    headers = {**request.pop("headers", {}), "Referer": "https://localhost/login"}
    response = client.post(
        "/login",
        data={"token": api.token, "csrf_token": found.group(1)},
        headers=headers,
        **request,
    )
    assert response.status_code == 302
    return str(response.headers["Set-Cookie"])


def _app(store: Store, settings: Settings, **changes: object) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "STORE": store,
            "SETTINGS": settings.model_copy(update=changes),
            "MIGRATE": False,
        }
    )


def test_plain_http_gets_no_secure_flag_https_does(app: Flask, api: Caller) -> None:
    assert "Secure" not in _sign_in_cookie(app, api)
    assert "Secure" in _sign_in_cookie(app, api, base_url="https://localhost")


def test_a_forwarded_proto_counts_only_from_a_declared_proxy(
    store: Store, settings: Settings, api: Caller
) -> None:
    forwarded: dict[str, Any] = {
        "headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    }
    untrusting = _app(store, settings)
    assert "Secure" not in _sign_in_cookie(untrusting, api, **forwarded)
    behind_proxy = _app(store, settings, trusted_proxies=1)
    assert "Secure" in _sign_in_cookie(behind_proxy, api, **forwarded)
    assert "Secure" not in _sign_in_cookie(behind_proxy, api)  # the proxy said http


def test_secure_cookies_forces_the_flag(store: Store, settings: Settings, api: Caller) -> None:
    assert "Secure" in _sign_in_cookie(_app(store, settings, secure_cookies=True), api)
