"""Error pages: JSON for the API, a short page for people; never a trace."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, HTTPException


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(message=exc.description or exc.name), exc.code
        return _page(exc.code, exc.name, _own_reason(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            return jsonify(message="Internal server error"), 500
        return _page(500, "Error")


def _own_reason(exc: HTTPException) -> str | None:
    """A refusal's own reason (``abort(403, description=…)``), not werkzeug's stock text."""
    if exc.code == 403 and exc.description != Forbidden.description:
        return exc.description
    return None


def _page(code: int | None, title: str, reason: str | None = None):
    appbuilder = current_app.extensions["appbuilder"]
    if "user" not in g:  # CSRF errors stop the request before FAB sets g.user
        from flask_login import current_user

        g.user = current_user
    html = render_template(
        "forecourt/error.html",
        appbuilder=appbuilder,
        base_template=appbuilder.base_template,
        code=code,
        title=title,
        message=reason or _error_text(code),
    )
    return html, code


def _error_text(code: int | None) -> str:
    return {
        403: _("You may not do this."),
        404: _("This page does not exist, or you have no access to it."),
        405: _("This action is not allowed this way."),
        429: _("Too many attempts. Wait a minute and try again."),
    }.get(code or 500, _("Something went wrong on our side. It has been logged."))
