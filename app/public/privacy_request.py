"""The public privacy-request form and its confirmation link (GDPR Art. 12, 15-21).

Anyone files a request; it starts only when the person confirms it through the link
e-mailed to them. The page never says whether the address is known to us. Filing is
rate-limited with Flask-AppBuilder's limiter (``PRIVACY_REQUEST_RATE_LIMIT``, POST only).
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.i18n.web import SESSION_KEY
from app.models import (
    Dealer,
    DealerStatus,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
)
from app.models.base import utcnow
from app.privacy.links import VERIFY, LinkError, read_token
from app.privacy.requests import intake
from app.public.blueprint import public_bp
from app.public.limits import rate_limited
from app.public.privacy_request_forms import REQUEST_TYPES, PrivacyRequestForm
from app.saving import saving

TYPE_LABELS = {request_type: label for request_type, label, _text in REQUEST_TYPES}

STATUS_LABELS = {
    RequestStatus.received: _l("Received"),
    RequestStatus.awaiting_verification: _l("Waiting for your confirmation"),
    RequestStatus.verified: _l("Confirmed"),
    RequestStatus.in_progress: _l("Confirmed, being carried out"),
    RequestStatus.completed: _l("Completed"),
    RequestStatus.refused: _l("Answered"),
    RequestStatus.cancelled: _l("Withdrawn"),
}


@public_bp.context_processor
def page_language() -> dict:
    """The language of the page, for ``<html lang>`` and the language links."""
    return {"page_language": str(get_locale() or "en")}


def _active_dealers() -> list[tuple[int, str]]:
    query = select(Dealer.id, Dealer.business_name).where(Dealer.status == DealerStatus.active)
    return [tuple(row) for row in db.session.execute(query.order_by(Dealer.business_name))]


@public_bp.route("/privacy/request", methods=["GET", "POST"])
@rate_limited("PRIVACY_REQUEST_RATE_LIMIT")
def privacy_request_form():
    """File a request; the answer is the same whether or not we know the address."""
    form = PrivacyRequestForm(_active_dealers())
    if form.validate_on_submit():
        with saving(form, flash_error=False) as saved:
            filed = intake.file_request(
                db.session,
                request_type=form.request_type.data,
                email=form.email.data,
                phone=form.phone.data,
                name=form.name.data,
                dealer_id=form.dealer_id,
                channel=RequestChannel.public_form,
                language=str(get_locale() or "en"),
                details=form.details.data,
                verification_ttl=current_app.config["PRIVACY_VERIFICATION_TTL"],
            )
        if not saved.ok:
            return _form_page(form), 422
        ttl_hours = int(current_app.config["PRIVACY_VERIFICATION_TTL"].total_seconds() // 3600)
        return render_template("public/privacy_request_sent.html", reference=filed.reference, ttl_hours=ttl_hours)
    status = 422 if request.method == "POST" else 200
    return _form_page(form), status


def _form_page(form: PrivacyRequestForm) -> str:
    explanations = {request_type.value: text for request_type, _label, text in REQUEST_TYPES}
    return render_template("public/privacy_request_form.html", form=form, explanations=explanations)


def _request_from_token(token: str) -> PrivacyRequest | None:
    """The request the link is for; None when the link has expired; 404 when forged."""
    try:
        request_id, _ = read_token(VERIFY, token, max_age=current_app.config["PRIVACY_VERIFICATION_TTL"])
    except LinkError as error:
        if error.expired:
            return None
        abort(404)
    privacy_request = db.session.get(PrivacyRequest, request_id)
    if privacy_request is None:
        abort(404)
    return privacy_request


def _link_expired():
    return render_template("public/privacy_request_expired.html"), 410


@public_bp.route("/privacy/request/verify/<token>", methods=["GET", "POST"])
def privacy_request_verify(token: str):
    """GET shows the request and a button; only the POST confirms (link scanners GET)."""
    response = make_response(_verify(token))
    response.headers["X-Robots-Tag"] = "noindex"  # the URL is a secret
    return response


def _verify(token: str):
    privacy_request = _request_from_token(token)
    if privacy_request is None:
        return _link_expired()
    waiting = privacy_request.status is RequestStatus.awaiting_verification
    if waiting and (privacy_request.verification_expires_at is None or privacy_request.verification_expires_at <= utcnow()):
        return _link_expired()
    if request.method == "POST":  # CSRFProtect has checked the token
        with saving(flash_error=False) as saved:
            intake.verify(db.session, privacy_request)
        if not saved.ok:
            return _link_expired()
        return redirect(url_for("public.privacy_request_verify", token=token), code=303)
    with force_locale(_page_language(privacy_request)):
        return render_template(
            "public/privacy_request_verify.html",
            privacy_request=privacy_request,
            request_type_label=TYPE_LABELS[privacy_request.request_type],
            status_label=STATUS_LABELS[privacy_request.status],
        )


def _page_language(privacy_request: PrivacyRequest) -> str:
    """The language the person filed in, unless they switch it on the page."""
    for chosen in (request.args.get("_l_"), session.get(SESSION_KEY)):
        if chosen in current_app.config["LANGUAGES"]:
            return chosen
    return privacy_request.language
