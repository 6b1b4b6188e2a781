"""Error pages: JSON for the API, a short page for people; never a trace.

Input a person can send is never a 500: an id no row can have is a 404 on every route,
and a value the database refuses (out of range, not an allowed value) is a 400 with a
translated message, the session rolled back (``app.datamodel`` raises most of these
itself; the handler here catches the rest).
"""

from __future__ import annotations

import re

from flask import Flask, abort, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, HTTPException

from app.datamodel import MAX_INTEGER, BadInput, as_row_id, bad_input_message, is_bad_input

LIST_NUMBER_ARG = re.compile("page_|psize_")  # as flask_appbuilder.urltools matches them


def register_error_pages(app: Flask) -> None:
    @app.url_value_preprocessor
    def refuse_impossible_ids(endpoint, values) -> None:
        for name, value in (values or {}).items():
            # Every table's primary key is a 32-bit integer: a larger id names no row (and
            # PostgreSQL would refuse to compare it with an int4 column).
            if _is_id(name, value) and as_row_id(value, MAX_INTEGER) is None:
                abort(404)

    @app.before_request
    def refuse_malformed_list_args() -> None:
        """FAB's lists read ``page_<view>`` and ``psize_<view>`` with ``int()``."""
        if request.path.startswith("/api/"):
            return
        for name, value in request.args.items(multi=True):
            if LIST_NUMBER_ARG.search(name) and as_row_id(value) is None:
                raise BadInput(_("This link is not valid: page numbers and page sizes are whole numbers."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(message=exc.description or exc.name), exc.code
        return _page(exc.code, _own_reason(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if is_bad_input(exc):
            from app.extensions import db

            db.session.rollback()
            app.logger.warning("bad input refused by the database: %s", type(exc).__name__)
            if request.path.startswith("/api/"):
                return jsonify(message=bad_input_message()), 400
            return _page(400, bad_input_message())
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            return jsonify(message="Internal server error"), 500
        return _page(500)


def _is_id(name: str, value) -> bool:
    """A URL value naming a row: ``pk``, ``id`` or ``*_id``, given as digits."""
    if name not in ("pk", "id") and not name.endswith("_id"):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.lstrip("+-").isdigit())


def _own_reason(exc: HTTPException) -> str | None:
    """The refusal's own words: bad input, or ``abort(403, description=…)`` (not werkzeug's stock text)."""
    if isinstance(exc, BadInput):
        return str(exc)
    if exc.code == 403 and exc.description != Forbidden.description:
        return exc.description
    return None


def _page(code: int | None, message: str | None = None):
    appbuilder = current_app.extensions["appbuilder"]
    if "user" not in g:  # CSRF errors stop the request before FAB sets g.user
        from flask_login import current_user

        g.user = current_user
    html = render_template(
        "forecourt/error.html",
        appbuilder=appbuilder,
        base_template=appbuilder.base_template,
        code=code,
        title=_error_title(code),
        message=message or _error_text(code),
    )
    return html, code


def _error_title(code: int | None) -> str:
    return {
        400: _("Bad request"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        429: _("Too many requests"),
    }.get(code or 500, _("Error"))


def _error_text(code: int | None) -> str:
    return {
        400: _("This request is not valid."),
        403: _("You may not do this."),
        404: _("This page does not exist, or you have no access to it."),
        405: _("This action is not allowed this way."),
        429: _("Too many attempts. Wait a minute and try again."),
    }.get(code or 500, _("Something went wrong on our side. It has been logged."))
