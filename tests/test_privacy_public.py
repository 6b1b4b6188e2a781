"""The public privacy-request form and its confirmation link, through HTTP."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.models import Dealer, DealerStatus, MailMessage, PrivacyRequest, RequestStatus
from app.models.base import utcnow
from tests.factories import new_email
from tests.web_support import csrf_token

FORM = "/privacy/request"
LINK_RE = re.compile(r"https?://\S+/privacy/request/verify/\S+")


def counts(db) -> tuple[int, int]:
    db.session.rollback()
    requests = db.session.scalar(select(func.count()).select_from(PrivacyRequest))
    mails = db.session.scalar(select(func.count()).select_from(MailMessage))
    return requests, mails


def file(browser, url: str = FORM, **fields):
    data = {"request_type": "access", "dealer": "platform", "name": "", "phone": "", "details": ""}
    data.update(fields)
    return browser.post_form(url, data)


def reference_on(page) -> str:
    match = re.search(r'class="reference">([A-Z0-9-]+)<', page.get_data(as_text=True))
    assert match, "no reference on the page"
    return match.group(1)


def verification_link(db, email: str) -> str:
    """The path of the link in the latest verification mail to ``email``."""
    db.session.rollback()
    message = db.session.scalars(
        select(MailMessage).where(MailMessage.to_address == email, MailMessage.kind == "verification").order_by(MailMessage.id.desc())
    ).first()
    assert message is not None, "no verification mail"
    match = LINK_RE.search(message.body_text)
    assert match, "no link in the mail"
    assert match.group(0) in message.body_html
    return urlsplit(match.group(0)).path


def request_by_reference(db, reference: str) -> PrivacyRequest:
    db.session.rollback()
    return db.session.scalars(select(PrivacyRequest).where(PrivacyRequest.reference == reference)).one()


def test_the_form_is_public_self_hosted_and_lists_active_dealers(login, db):
    page = login(None).get(FORM)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for request_type in ("access", "portability", "rectification", "erasure", "restriction", "objection"):
        assert f'value="{request_type}"' in html
    assert 'type="file"' not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset from another origin"
    assert "/static/appbuilder/css/bootstrap.min.css" in html
    active = db.session.scalars(select(Dealer).where(Dealer.status == DealerStatus.active)).all()
    assert active
    for dealer in active:
        assert f'<option value="{dealer.id}">' in html
    assert "Forecourt itself / all dealerships" in html


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"request_type": ""}, "request_type"),
        ({"request_type": "everything"}, "request_type"),
        ({"request_type": "rectification", "details": "  "}, "details"),
        ({"dealer": "999999"}, "dealer"),
        ({"phone": "12"}, "phone"),
        ({"name": "x" * 201}, "name"),
    ],
    ids=["no-email", "bad-email", "no-type", "unknown-type", "rectification-without-details", "unknown-dealer", "bad-phone", "long-name"],
)
def test_a_rejected_form_shows_the_error_at_its_field_and_changes_nothing(login, db, fields, field):
    before = counts(db)
    data = {"email": new_email(), **fields}
    response = file(login(None), **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert counts(db) == before


def test_a_dealer_that_is_not_active_cannot_be_chosen(login, db):
    dealer = Dealer(slug=f"gone-{uuid.uuid4().hex[:8]}", business_name="Closed Cars", country="DE", status=DealerStatus.terminated)
    db.session.add(dealer)
    db.session.commit()
    browser = login(None)
    assert f'<option value="{dealer.id}">' not in browser.get(FORM).get_data(as_text=True)
    before = counts(db)
    response = file(browser, email=new_email(), dealer=str(dealer.id))
    assert response.status_code == 422
    assert 'id="dealer-error"' in response.get_data(as_text=True)
    assert counts(db) == before


def test_a_post_without_csrf_token_is_refused(app, db):
    before = counts(db)
    response = app.test_client().post(FORM, data={"request_type": "access", "email": new_email(), "dealer": "platform"})
    assert response.status_code == 400
    assert counts(db) == before


def test_filing_sends_a_link_that_confirms_the_request_only_by_post(login, db, dealer_ids):
    browser = login(None)
    email = new_email()
    sent = file(browser, email=email.upper(), dealer=str(dealer_ids["north-motors"]), name="Pat Doe")
    assert sent.status_code == 200
    assert "Check your e-mail" in sent.get_data(as_text=True)
    reference = reference_on(sent)

    filed = request_by_reference(db, reference)
    assert filed.status is RequestStatus.awaiting_verification
    assert filed.subject_email == email and filed.dealer_id == dealer_ids["north-motors"]
    assert filed.channel.value == "public_form" and filed.language == "en"

    link = verification_link(db, email)
    page = browser.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reference in html and "Confirm my request" in html
    assert email not in html  # the page shows the request, not the person's address
    assert request_by_reference(db, reference).status is RequestStatus.awaiting_verification  # GET confirms nothing

    confirmed = browser.post_form(link, {}, form_url=link)
    assert confirmed.status_code == 303
    assert request_by_reference(db, reference).status is RequestStatus.verified

    reopened = browser.get(link)
    assert reopened.status_code == 200
    html = reopened.get_data(as_text=True)
    assert reference in html and 'data-status="verified"' in html and "Confirm my request" not in html

    again = browser.post_form(link, {}, form_url=FORM)  # a second confirmation is harmless
    assert again.status_code == 303
    events = [e.kind for e in request_by_reference(db, reference).events]
    assert events.count("verified") == 1


def test_the_answer_does_not_tell_whether_the_address_is_known(login, db, dealer_ids):
    from app.models import Client

    known = new_email()
    db.session.add(Client(dealer_id=dealer_ids["north-motors"], first_name="Known", last_name="Person", email=known))
    db.session.commit()
    pages = []
    for address in (known, new_email()):
        page = file(login(None), email=address)
        assert page.status_code == 200
        pages.append(page.get_data(as_text=True).replace(reference_on(page), "REF"))
    assert pages[0] == pages[1]


def test_the_request_and_its_mail_are_in_the_language_of_the_page(login, db):
    email = new_email()
    sent = file(login(None), url=f"{FORM}?_l_=de", email=email)
    assert sent.status_code == 200
    assert '<html lang="de">' in sent.get_data(as_text=True)
    filed = request_by_reference(db, reference_on(sent))
    assert filed.language == "de"
    message = db.session.scalars(select(MailMessage).where(MailMessage.request_id == filed.id)).one()
    assert message.language == "de"


def test_filing_again_before_confirming_resumes_the_same_request(login, db):
    browser = login(None)
    email = new_email()
    first = file(browser, email=email, request_type="erasure")
    first_link = verification_link(db, email)
    second = file(browser, email=email, request_type="erasure")
    assert reference_on(first) == reference_on(second)
    db.session.rollback()
    rows = db.session.scalars(select(PrivacyRequest).where(PrivacyRequest.subject_email == email)).all()
    assert len(rows) == 1
    mails = db.session.scalars(select(MailMessage).where(MailMessage.to_address == email)).all()
    assert [m.kind for m in mails] == ["verification", "verification"]
    # The link from the first mail still works and confirms the same request.
    assert browser.post_form(first_link, {}, form_url=first_link).status_code == 303
    assert request_by_reference(db, reference_on(first)).status is RequestStatus.verified


def test_a_request_whose_confirmation_time_is_over_asks_to_file_again(login, db):
    browser = login(None)
    email = new_email()
    reference = reference_on(file(browser, email=email))
    link = verification_link(db, email)
    filed = request_by_reference(db, reference)
    filed.verification_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    page = browser.get(link)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This link has expired" in html and 'href="/privacy/request"' in html
    token = csrf_token(browser.client, FORM)  # the link page has no form any more
    assert browser.client.post(link, data={"csrf_token": token}).status_code == 410
    assert request_by_reference(db, reference).status is RequestStatus.awaiting_verification


def test_an_expired_link_asks_to_file_again(app, login, db):
    browser = login(None)
    email = new_email()
    file(browser, email=email)
    link = verification_link(db, email)
    ttl = app.config["PRIVACY_VERIFICATION_TTL"]
    app.config["PRIVACY_VERIFICATION_TTL"] = timedelta(seconds=-1)  # every link is too old now
    try:
        page = browser.get(link)
    finally:
        app.config["PRIVACY_VERIFICATION_TTL"] = ttl
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)


@pytest.mark.parametrize("token", ["garbage", "eyJyIjoxLCJiIjoiIn0.awIn4w.forgedsignature0000000000"])
def test_a_forged_link_is_not_found(login, token):
    assert login(None).get(f"/privacy/request/verify/{token}").status_code == 404


def test_a_link_signed_for_another_purpose_is_not_found(app, login, db):
    from app.privacy.links import DOWNLOAD, make_token

    browser = login(None)
    email = new_email()
    filed = request_by_reference(db, reference_on(file(browser, email=email)))
    with app.test_request_context():
        token = make_token(DOWNLOAD, filed.id)
    assert browser.get(f"/privacy/request/verify/{token}").status_code == 404


def test_filing_is_rate_limited(app, login, db):
    limiter = app.appbuilder.sm.limiter
    configured = app.config["PRIVACY_REQUEST_RATE_LIMIT"]
    app.config["PRIVACY_REQUEST_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        browser = login(None)
        assert file(browser, email=new_email()).status_code == 200
        assert file(browser, email="").status_code == 422  # a rejected POST counts as well
        before = counts(db)
        limited = file(browser, email=new_email())
        assert limited.status_code == 429
        assert counts(db) == before
        assert browser.get(FORM).status_code == 200  # reading the form is not limited
    finally:
        app.config["PRIVACY_REQUEST_RATE_LIMIT"] = configured
        limiter.reset()
    assert file(login(None), email=new_email()).status_code == 200
