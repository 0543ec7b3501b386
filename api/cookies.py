"""The session cookie's transport: ``Secure`` whenever the request came over HTTPS — directly,
or through reverse proxies the operator declared (``AUTOFILL_TRUSTED_PROXIES``, whose
X-Forwarded-Proto is then believed) — and always with ``AUTOFILL_SECURE_COOKIES``. Headers of
proxies that were not declared are ignored: a client cannot claim HTTPS for itself."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class HttpsAwareSessions(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def install(app: Flask, trusted_proxies: int) -> None:
    app.session_interface = HttpsAwareSessions()
    if trusted_proxies:
        n = trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
