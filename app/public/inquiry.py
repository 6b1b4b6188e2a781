"""A dealer's public pages: the inquiry form with its consents, confirming a marketing
opt-in (the link mailed to the address), and withdrawing marketing consent (the one-click
link of every marketing e-mail and the withdrawal page).

Rules live in ``app.privacy.consent.public_inquiry`` and ``app.privacy.consent.withdrawal``. The visitor's IP
address is handed to them, which keep it only when the dealer records IPs; rate limits
count a keyed hash of it, never the address itself.
"""

from __future__ import annotations

import logging
import secrets

from flask import abort, current_app, make_response, render_template, request, session
from flask_babel import force_locale, get_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import csrf, db
from app.i18n.web import SESSION_KEY
from app.mail.new_inquiry import notify_new_inquiry
from app.models import ConsentMethod, Dealer
from app.models.sales_flow import inquiry_with_form_token
from app.privacy.consent import opt_in, unsubscribe, withdrawal
from app.privacy.consent import public_inquiry as inquiries
from app.privacy.links import LinkError
from app.privacy.transparency.policy_versions import current_version
from app.public.blueprint import public_bp
from app.public.inquiry_forms import InquiryForm, MarketingWithdrawalForm
from app.public.limits import rate_limited
from app.saving import saving

log = logging.getLogger(__name__)

PRIVACY_POLICY_PATH = "/privacy"


def _dealer_or_404(slug: str) -> Dealer:
    dealer = inquiries.public_dealer(db.session, slug)
    if dealer is None:
        abort(404)
    return dealer


def _any_dealer_or_404(slug: str) -> Dealer:
    """Withdrawing stays possible while a terminated dealer's records exist."""
    dealer = db.session.scalars(select(Dealer).where(Dealer.slug == slug.strip().lower())).first()
    if dealer is None:
        abort(404)
    return dealer


def _car_or_404(dealer: Dealer):
    raw = request.args.get("car")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        abort(404)
    car = inquiries.published_car(db.session, dealer, int(raw))
    if car is None:
        abort(404)
    return car


@public_bp.route("/d/<slug>/inquiry", methods=["GET", "POST"])
@rate_limited("INQUIRY_RATE_LIMIT")
def dealer_inquiry(slug: str):
    """The inquiry form; both consent checkboxes start unticked."""
    dealer = _dealer_or_404(slug)
    car = _car_or_404(dealer)
    form = InquiryForm()
    if form.validate_on_submit():
        token = form.form_token.data or None
        if inquiry_with_form_token(db.session, dealer.id, token) is not None:
            log.info("inquiry form of dealer %s submitted again: nothing added", dealer.id)
            return _thank_you(dealer, form)
        try:
            with saving(form, flash_error=False) as saved:
                received = inquiries.receive_inquiry(
                    db.session,
                    dealer,
                    name=form.name.data,
                    email=form.email.data,
                    phone=form.phone.data,
                    message=form.message.data,
                    privacy_notice_acknowledged=bool(form.privacy_notice.data),
                    marketing_consent=bool(form.marketing.data),
                    source=request.path,
                    car=car,
                    ip_address=request.remote_addr,
                    user_agent=request.user_agent.string,
                    language=str(get_locale() or "en"),
                    form_token=token,
                )
                notify_new_inquiry(db.session, received.inquiry)
        except IntegrityError:  # the same form's other submit won the race: it is stored once
            db.session.rollback()
            if inquiry_with_form_token(db.session, dealer.id, token) is None:
                raise
            return _thank_you(dealer, form)
        if not saved.ok:
            return _inquiry_page(form, dealer, car), 422
        log.info("inquiry %s received for dealer %s", received.inquiry.id, dealer.id)
        return _thank_you(dealer, form)
    if not form.form_token.data or form.form_token.errors:
        form.form_token.data = secrets.token_urlsafe(24)  # one per form shown
    status = 422 if request.method == "POST" else 200
    return _inquiry_page(form, dealer, car), status


def _thank_you(dealer: Dealer, form: InquiryForm) -> str:
    # The same page whatever the address's history (new, client, withdrawn, objected) and
    # however often the form was sent: it depends on what was typed only.
    return render_template("public/inquiry_sent.html", dealer=dealer, marketing_requested=bool(form.marketing.data))


def _inquiry_page(form: InquiryForm, dealer: Dealer, car) -> str:
    return render_template(
        "public/inquiry_form.html",
        form=form,
        dealer=dealer,
        car=car,
        policy=current_version(db.session),
        privacy_url=PRIVACY_POLICY_PATH,
    )


@public_bp.route("/d/<slug>/marketing/confirm/<token>", methods=["GET", "POST"])
def dealer_marketing_confirm(slug: str, token: str):
    """GET shows one button and changes nothing (link scanners GET); the POST (CSRF)
    confirms the marketing opt-in. Only the address's owner has the link."""
    dealer = _dealer_or_404(slug)
    try:
        link = opt_in.read_token(token)
    except LinkError as error:
        if not error.expired:
            abort(404)
        return _confirm_page(dealer, "expired", None, 410)
    if link.dealer_id != dealer.id:
        abort(404)
    if request.method == "POST":  # CSRFProtect has checked the token
        outcome = opt_in.confirm(db.session, dealer, link, ip_address=request.remote_addr)
        db.session.commit()
        log.info("marketing opt-in link of dealer %s: %s", dealer.id, outcome.value)
        state = {opt_in.Outcome.confirmed: "confirmed", opt_in.Outcome.objected: "objected"}.get(outcome, "expired")
        return _confirm_page(dealer, state, link, 410 if state == "expired" else 200)
    if opt_in.pending_inquiry(db.session, dealer, link) is None:
        return _confirm_page(dealer, "expired", link, 410)
    return _confirm_page(dealer, "ask", link, 200)


def _confirm_page(dealer: Dealer, state: str, link, status: int):
    with force_locale(_confirm_language(link)):
        html = render_template("public/marketing_confirm.html", dealer=dealer, state=state)
    response = make_response(html, status)
    response.headers["X-Robots-Tag"] = "noindex"  # the URL is a secret
    return response


def _confirm_language(link) -> str:
    """The language the visitor used on the form, unless they switch it on the page."""
    for chosen in (request.args.get("_l_"), session.get(SESSION_KEY)):
        if chosen in current_app.config["LANGUAGES"]:
            return chosen
    if link is not None and link.language in current_app.config["LANGUAGES"]:
        return link.language
    return str(get_locale() or "en")


@public_bp.route("/d/<slug>/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the protection: mail clients POST it (RFC 8058) without a form
def dealer_unsubscribe(slug: str, token: str):
    """GET shows one button and changes nothing (link scanners GET); POST withdraws."""
    try:
        dealer_id, email_key, kind = unsubscribe.read_unsubscribe_token(token)
    except LinkError:
        abort(404)
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None or dealer.slug != slug:
        abort(404)
    done = False
    if request.method == "POST":
        clients = unsubscribe.clients_for_token(db.session, dealer.id, email_key)
        count = withdrawal.withdraw(
            db.session,
            dealer,
            clients,
            method=ConsentMethod.unsubscribe_link,
            source=f"email:{kind}",
            ip_address=request.remote_addr,
        )
        db.session.commit()
        log.info("marketing consent withdrawn by link for %d client(s) of dealer %s", count, dealer.id)
        done = True
    response = make_response(render_template("public/unsubscribe.html", dealer=dealer, done=done))
    response.headers["X-Robots-Tag"] = "noindex"  # the URL is a secret
    return response


@public_bp.route("/d/<slug>/marketing", methods=["GET", "POST"])
@rate_limited("INQUIRY_RATE_LIMIT")
def dealer_marketing(slug: str):
    """Withdraw marketing consent by e-mail address in one submit; the answer is the same
    whether or not the dealer knows the address."""
    dealer = _any_dealer_or_404(slug)
    form = MarketingWithdrawalForm()
    if form.validate_on_submit():
        with saving(form, flash_error=False) as saved:
            count = withdrawal.withdraw_by_email(
                db.session,
                dealer,
                form.email.data,
                method=ConsentMethod.public_page,
                source=request.path,
                ip_address=request.remote_addr,
            )
        if not saved.ok:
            return render_template("public/marketing_withdrawal.html", form=form, dealer=dealer, done=False), 422
        log.info("marketing consent withdrawn on the public page for %d client(s) of dealer %s", count, dealer.id)
        return render_template("public/marketing_withdrawal.html", form=None, dealer=dealer, done=True)
    status = 422 if request.method == "POST" else 200
    return render_template("public/marketing_withdrawal.html", form=form, dealer=dealer, done=False), status
