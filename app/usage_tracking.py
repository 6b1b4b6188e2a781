"""The web side of the usage log: after each successful HTML page of a signed-in user,
hand the page view to ``app.privacy.lifecycle.usage_log`` (thin; the rules live there).

Only GET pages (2xx, ``text/html``) count: never static files, the REST API, JSON (the
status the progress bars poll), the health check, anonymous pages or the public blueprint
(its pages are for anyone; their paths carry secret tokens: unsubscribe, verification and
download links, which must not be stored even when a signed-in user opens one). The view is written in
its own short transaction, so the page's session is never committed by accident, and a
failure is logged (without personal data) and never breaks the response. The last view of
the browser session is kept in the (signed) session cookie: the next view sets its duration.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request, session
from flask_login import current_user, user_logged_in, user_logged_out
from sqlalchemy.orm import Session

from app.privacy.lifecycle.usage_log import ViewMark, is_usage_logged, record_page_view, referrer_origin

log = logging.getLogger(__name__)

SESSION_KEY = "_pv"
SKIPPED_PREFIXES = ("/api/", "/static/", "/healthz", "/readyz")
PUBLIC_ENDPOINTS = "public."  # app/public: the pages with secret links in their paths


def install_usage_log(app: Flask) -> None:
    app.after_request(log_page_view)
    # A new sign-in starts a new session of page views: the last one stays open-ended.
    user_logged_in.connect(_forget_mark, app)
    user_logged_out.connect(_forget_mark, app)


def is_logged_page(response: Response) -> bool:
    """A page a person looked at, as opposed to an asset, an API answer or an error."""
    endpoint = request.endpoint or ""
    return (
        request.method == "GET"
        and 200 <= response.status_code < 300
        and response.mimetype == "text/html"
        and bool(endpoint)
        and endpoint != "static"
        and not endpoint.endswith(".static")
        and not endpoint.startswith(PUBLIC_ENDPOINTS)
        and not request.path.startswith(SKIPPED_PREFIXES)
    )


def log_page_view(response: Response) -> Response:
    if not is_logged_page(response):
        return response
    try:
        user = current_user._get_current_object()
        if not getattr(user, "is_authenticated", False) or not is_usage_logged(user):
            return response
        mark = _record(user)
        session[SESSION_KEY] = mark.to_session()
    except Exception as exc:  # noqa: BLE001 - the log must never cost the user their page
        log.warning("page view not recorded for %s: %s", request.endpoint, type(exc).__name__)
    return response


def log_feature_use(feature: str) -> None:
    """Record a feature used without a page (a list export, a download) in the usage log,
    in its own short transaction; the signed-in user of a page or of the REST API."""
    from app.signed_in import signed_in_user

    try:
        user = signed_in_user()
        if user is None or not is_usage_logged(user):
            return
        from app.extensions import db

        with Session(db.engine) as own:
            record_page_view(
                own,
                user_id=user.id,
                dealer_id=getattr(user, "dealer_id", None),
                path=request.path,
                feature=feature,
                user_agent=request.headers.get("User-Agent"),
                ip=request.remote_addr,
            )
            own.commit()
    except Exception as exc:  # noqa: BLE001 - the log must never cost the user their file
        log.warning("feature use not recorded for %s: %s", request.endpoint, type(exc).__name__)


def _record(user) -> ViewMark:
    from app.extensions import db

    with Session(db.engine) as own:
        mark = record_page_view(
            own,
            user_id=user.id,
            dealer_id=getattr(user, "dealer_id", None),
            path=request.path,
            feature=request.endpoint,
            user_agent=request.headers.get("User-Agent"),
            ip=request.remote_addr,
            previous=ViewMark.from_session(session.get(SESSION_KEY)),
            referrer=_other_sites_referrer(),
        )
        own.commit()
    return mark


def _other_sites_referrer() -> str | None:
    """The referring page when another site linked here; a link between the service's own
    pages says nothing worth storing."""
    if referrer_origin(request.referrer) == referrer_origin(request.host_url):
        return None
    return request.referrer


def _forget_mark(sender, **extra) -> None:
    session.pop(SESSION_KEY, None)
