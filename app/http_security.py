"""Security headers on every response; the CSP allows only this origin (no CDN).

Scripts run only from this origin's files or from an inline ``<script>`` carrying the
request's nonce (``nonce="{{ csp_nonce() }}"``; FAB's own templates call ``csp_nonce``
through ``baselib.get_nonce()``); inline event handler attributes never run.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP_TEMPLATE = (
    "default-src 'self'; "
    "img-src 'self' data:; "
    "script-src 'self' 'nonce-{nonce}'; "
    # FAB's templates, widgets and Swagger UI still set inline styles.
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; "
    "form-action 'self'; "
    "base-uri 'self'; "
    "object-src 'none'"
)
NONCE_KEY = "forecourt.csp_nonce"


def csp_nonce() -> str:
    """This request's script nonce: random, made on first use, the same for the whole request.

    Kept in the request's WSGI environ rather than ``g``: one app context (and its ``g``)
    can span several requests (a test holding one), a nonce must not.
    """
    if not has_request_context():
        return secrets.token_urlsafe(18)  # e.g. a mail rendered by a job: no policy to match
    nonce = request.environ.get(NONCE_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def content_security_policy() -> str:
    return CSP_TEMPLATE.format(nonce=csp_nonce())


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/") or response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


def install_csp_nonce(app: Flask) -> None:
    """Offer ``csp_nonce()`` to every template, imported macros (FAB's baselib) included."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the visitor's address and scheme
    from their ``X-Forwarded-For``/``-Proto`` headers (0: trust no header, the default;
    a visitor could otherwise forge their address)."""
    count = int(app.config["TRUSTED_PROXIES"])
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
