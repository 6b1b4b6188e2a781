"""Downloading an access/portability package: the public signed link, and the response
the officer's screens and the REST API reuse.

The link is signed, bound to the request and to the file's SHA-256 (a newer package
invalidates older links), and expires with the package. A bad link gets a short page that
says so and nothing more.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, render_template, send_file
from flask_babel import gettext as _

from app.extensions import db
from app.models import PrivacyRequest, RequestType
from app.privacy.links import DOWNLOAD, LinkError, read_token
from app.privacy.requests.export_files import ExportUnavailable, open_export
from app.public.blueprint import public_bp


def download_response(request: PrivacyRequest, actor_id: int | None = None, actor_label: str | None = None) -> Response:
    """The ZIP as an attachment, ``no-store``; logs the download and commits.

    Raises ``ExportUnavailable`` when there is no package (never made, expired, deleted).
    """
    path = open_export(db.session, request, actor_id=actor_id, actor_label=actor_label)
    try:
        stream = path.open("rb")
    except FileNotFoundError:  # deleted by the sweep in the meantime
        db.session.rollback()
        raise ExportUnavailable(expired=True)
    reference = request.reference
    db.session.commit()
    response = send_file(
        stream,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"forecourt-{reference}.zip",
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@public_bp.get("/privacy/download/<token>")
def download_export(token: str):
    """The link from the "completed" e-mail."""
    try:
        request_id, bound_to = read_token(DOWNLOAD, token, max_age=current_app.config["PRIVACY_EXPORT_TTL"])
        long_lived = False
    except LinkError as exc:
        if not exc.expired:
            return _unavailable(expired=False)
        try:  # an account package may live longer (until day 30 after a termination)
            request_id, bound_to = read_token(DOWNLOAD, token, max_age=_link_life())
        except LinkError:
            return _unavailable(expired=True)
        long_lived = True
    request = db.session.get(PrivacyRequest, request_id)
    if request is None or not bound_to or bound_to != request.export_sha256:
        return _unavailable(expired=False)
    if long_lived and request.request_type is not RequestType.account_export:
        return _unavailable(expired=True)
    try:
        return download_response(request, actor_label="requester")
    except ExportUnavailable as exc:
        return _unavailable(expired=exc.expired)


def _link_life() -> timedelta:
    """The longest an account package lives: a terminated account's, until its deletion
    day. The package's own ``export_expires_at`` is checked on every download as well."""
    config = current_app.config
    return max(config["PRIVACY_EXPORT_TTL"], timedelta(days=int(config["ACCOUNT_DELETION_AFTER_DAYS"])))


def _unavailable(expired: bool):
    """410 for a link that was good once, 404 for anything else; no details either way."""
    if "user" not in g:
        from flask_login import current_user

        g.user = current_user
    appbuilder = current_app.extensions["appbuilder"]
    code = 410 if expired else 404
    message = (
        _("This download link has expired and the copy of your data was deleted. You can ask for a new copy at any time.")
        if expired
        else _("This download link is not valid. Please use the link from our e-mail exactly as it was sent.")
    )
    html = render_template(
        "forecourt/error.html",
        appbuilder=appbuilder,
        base_template=appbuilder.base_template,
        code=code,
        title=_("Download not available"),
        message=message,
    )
    return html, code, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
