"""Headers that protect the web page and every response (issue 24).

HTML gets a strict Content-Security-Policy: scripts, styles, fonts and images from this origin
only — the page has no inline script or style (its data rides in a JSON block, which is not
executed) — no plugins, no <base>, forms posting only here, and no framing by any other page
(``frame-ancestors 'none'``, with X-Frame-Options for browsers that predate it). Every response
says ``nosniff`` (a JSON body is never run as a script) and sends a referrer only to this
origin. Set in one ``after_request``, so a new page cannot miss them; the test walks the
route list to check.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HTML_ONLY = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}


def install(app: Flask) -> None:
    @app.after_request
    def _protect(response: Response) -> Response:
        for name, value in EVERY_RESPONSE.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            for name, value in HTML_ONLY.items():
                response.headers.setdefault(name, value)
        return response
