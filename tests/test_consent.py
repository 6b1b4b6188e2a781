"""Consent on the public inquiry form, the consent ledger, withdrawing marketing consent
and the dealer's visitor-IP setting — through HTTP, the real queue and a real SMTP server."""

from __future__ import annotations

import logging
import random
import re
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.models import (
    Client,
    ClientSource,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    DealerStatus,
    Inquiry,
    InquirySource,
    MailMessage,
    RequestChannel,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.consent import marketing_mail, unsubscribe
from app.privacy.requests import erasure_preview, intake, processing
from app.privacy.requests.scan import scan_all_text_columns
from app.queueing import enqueue_request
from tests.consent_support import confirmation_path, form_path, records, send_inquiry, visitor
from tests.factories import make_car, make_client, new_email, uid
from tests.privacy_support import user_id
from tests.queue_support import run_queue
from tests.web_support import token_from

A, B = "north-motors", "south-cars"
A_ADMIN, A_STAFF = "north-motors-admin", "north-motors-staff"
ACK_ERROR = "Please confirm that you have read the privacy notice."
# What the thank-you page says after a marketing tick: the same for every address.
MARKETING_LINE = "Offers from"
# -- helpers ---------------------------------------------------------------------------------


def confirm_marketing(client, db, address: str):
    """The person opens the link in the e-mail and presses the button."""
    path = confirmation_path(db, address)
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": token_from(page.get_data(as_text=True))})


def counts(db) -> dict[str, int]:
    db.session.rollback()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in (Inquiry, ConsentRecord, Client)}


def inquiry_by_email(db, address: str) -> Inquiry:
    db.session.expire_all()
    return db.session.scalars(select(Inquiry).where(Inquiry.email == address)).one()


@contextmanager
def every_logger_enabled():
    """Alembic's ``fileConfig`` (run by ``forecourt init`` in the test session) disables the
    loggers that existed then: switch them back on so that the test sees every line."""
    disabled = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger) and logger.disabled]
    for logger in disabled:
        logger.disabled = False
    try:
        yield
    finally:
        for logger in disabled:
            logger.disabled = True


@contextmanager
def recording_ips(db, dealer_id: int, on: bool):
    dealer = db.session.get(Dealer, dealer_id)
    before = dealer.record_visitor_ip
    dealer.record_visitor_ip = on
    db.session.commit()
    try:
        yield
    finally:
        dealer = db.session.get(Dealer, dealer_id)
        dealer.record_visitor_ip = before
        db.session.commit()


class Checkboxes(HTMLParser):
    """Every checkbox of a page: name -> attributes."""

    def __init__(self):
        super().__init__()
        self.found: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "checkbox":
            self.found[attributes.get("name")] = attributes


def checkboxes(html: str) -> dict[str, dict]:
    parser = Checkboxes()
    parser.feed(html)
    return parser.found


# -- the form ---------------------------------------------------------------------------------


def test_the_form_refuses_without_the_acknowledgement_and_stores_nothing(app, db, policy):
    before = counts(db)
    response, data = send_inquiry(visitor(app), ack=False, marketing=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert ACK_ERROR in html
    assert counts(db) == before
    # What the person typed is kept for the next try; the privacy box is still unticked.
    assert data["email"] in html
    assert "checked" not in checkboxes(html)["privacy_notice"]

    for fields, message in (
        ({"email": "", "phone": ""}, "Give an e-mail address or a phone number"),
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"phone": "12"}, "phone number"),
        ({"message": ""}, "Please write your message."),
        ({"email": "", "phone": "+49 30 1234567"}, "Give your e-mail address to receive offers"),
    ):
        response, _ = send_inquiry(visitor(app), marketing=True, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert counts(db) == before


def test_the_checkboxes_are_never_pre_ticked(app, policy):
    client = visitor(app)
    for url in (form_path(), form_path() + "?privacy_notice=y&marketing=y"):
        html = client.get(url).get_data(as_text=True)
        boxes = checkboxes(html)
        assert set(boxes) >= {"privacy_notice", "marketing"}
        for name in ("privacy_notice", "marketing"):
            assert "checked" not in boxes[name], f"{name} is pre-ticked on {url}"
        assert 'href="/privacy"' in html
    # A failed submission without any tick shows them unticked too.
    response, _ = send_inquiry(client, ack=False)
    boxes = checkboxes(response.get_data(as_text=True))
    assert "checked" not in boxes["privacy_notice"] and "checked" not in boxes["marketing"]


def test_an_inquiry_records_its_consents_with_version_method_source_and_time(app, db, dealer_ids, policy):
    started = utcnow()
    response, data = send_inquiry(visitor(app), marketing=True, name="Vera Visitor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thank you" in html and MARKETING_LINE in html

    inquiry = inquiry_by_email(db, data["email"])
    assert inquiry.dealer_id == dealer_ids[A] and inquiry.source is InquirySource.website
    assert inquiry.message == data["message"] and inquiry.ip_address is None and inquiry.user_agent is None
    # The tick alone gives nothing: no client, no marketing record until the address confirms.
    assert inquiry.client_id is None
    [ack] = records(db, email=data["email"])
    assert (ack.purpose, ack.action, ack.method) == (ConsentPurpose.privacy_notice, ConsentAction.acknowledged, ConsentMethod.inquiry_form)

    confirmed_after = utcnow()
    done = confirm_marketing(visitor(app), db, data["email"])
    assert done.status_code == 200 and "may now send you offers" in done.get_data(as_text=True)
    inquiry = inquiry_by_email(db, data["email"])
    client = inquiry.client
    assert client is not None and client.dealer_id == dealer_ids[A] and client.source is ClientSource.website
    assert (client.first_name, client.last_name) == ("Vera", "Visitor")
    assert client.marketing_consent is True and client.marketing_consent_at is not None

    ack, given = records(db, email=data["email"])
    assert (ack.purpose, ack.action) == (ConsentPurpose.privacy_notice, ConsentAction.acknowledged)
    assert (given.purpose, given.action) == (ConsentPurpose.marketing, ConsentAction.given)
    assert ack.method is ConsentMethod.inquiry_form and given.method is ConsentMethod.double_opt_in
    assert started <= ack.recorded_at <= confirmed_after <= given.recorded_at <= utcnow()  # the confirmation time
    for entry in (ack, given):
        assert entry.policy_version_id == policy
        assert entry.source == form_path(A)
        assert entry.dealer_id == dealer_ids[A] and entry.inquiry_id == inquiry.id
        assert entry.ip_address is None and entry.recorded_by_id is None
    assert given.client_id == client.id
    # The explicit record is not doubled by the flush-time rule.
    assert len(records(db, client_id=client.id, purpose=ConsentPurpose.marketing)) == 1


def test_an_inquiry_without_marketing_links_the_existing_client_and_creates_none(app, db, dealer_ids, policy):
    address = new_email()
    known = make_client(db, dealer_ids[A], address)
    elsewhere = make_client(db, dealer_ids[B], address, consent_given=True)
    before = counts(db)
    response, _ = send_inquiry(visitor(app), email=address.upper())
    assert response.status_code == 200
    assert MARKETING_LINE not in response.get_data(as_text=True)
    inquiry = inquiry_by_email(db, address)
    assert inquiry.client_id == known.id
    assert counts(db)["client"] == before["client"]
    [ack] = records(db, inquiry_id=inquiry.id)
    assert ack.purpose is ConsentPurpose.privacy_notice and ack.client_id == known.id
    assert not records(db, client_id=known.id, purpose=ConsentPurpose.marketing)
    assert db.session.get(Client, known.id).marketing_consent is False
    assert records(db, client_id=elsewhere.id, method=ConsentMethod.inquiry_form) == []


def test_an_inquiry_about_a_car_shows_it_and_links_it(app, db, dealer_ids, policy):
    car = make_car(db, dealer_ids[A], published=True)
    db.session.commit()
    url = f"{form_path(A)}?car={car.id}"
    assert "2020 Volkswagen Golf" in visitor(app).get(url).get_data(as_text=True)
    response, data = send_inquiry(visitor(app), url)
    assert response.status_code == 200
    assert inquiry_by_email(db, data["email"]).car_id == car.id


def test_another_dealers_slug_or_car_is_refused(app, db, dealer_ids, policy):
    mine = make_car(db, dealer_ids[A], published=True)
    hidden = make_car(db, dealer_ids[A], published=False)
    db.session.commit()
    client = visitor(app)
    for url in (
        f"{form_path(B)}?car={mine.id}",
        f"{form_path(A)}?car={hidden.id}",
        f"{form_path(A)}?car=abc",
        f"{form_path(A)}?car=987654",
        "/d/no-such-dealer/inquiry",
        "/d/no-such-dealer/marketing",
    ):
        assert client.get(url).status_code == 404, url
    before = counts(db)
    token = token_from(client.get(form_path(B)).get_data(as_text=True))
    posted = client.post(
        f"{form_path(B)}?car={mine.id}",
        data={"csrf_token": token, "name": "X", "email": new_email(), "message": "Hi", "privacy_notice": "y"},
    )
    assert posted.status_code == 404
    assert counts(db) == before


def test_a_terminated_dealer_404s(app, db, policy):
    slug = f"closed-{uid()}"
    db.session.add(Dealer(slug=slug, business_name="Closed Cars", country="DE", status=DealerStatus.terminated, terminated_at=utcnow()))
    db.session.commit()
    client = visitor(app)
    assert client.get(form_path(slug)).status_code == 404
    token = token_from(client.get(form_path(A)).get_data(as_text=True))
    response = client.post(
        form_path(slug), data={"csrf_token": token, "name": "X", "email": new_email(), "message": "Hi", "privacy_notice": "y"}
    )
    assert response.status_code == 404


def test_the_form_is_rate_limited_by_a_keyed_hash_of_the_ip(app, db, policy):
    limiter = app.appbuilder.sm.limiter
    configured = app.config["INQUIRY_RATE_LIMIT"]
    ip = f"198.51.100.{random.randrange(100, 250)}"
    app.config["INQUIRY_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        client = visitor(app, ip)
        for _ in range(2):
            assert send_inquiry(client)[0].status_code == 200
        assert send_inquiry(client)[0].status_code == 429
        assert client.get(form_path()).status_code == 200  # reading the form is not limited
        keys = list(limiter.storage.storage) + list(limiter.storage.events) + list(limiter.storage.expirations)
        assert keys and not [k for k in keys if ip in k]
    finally:
        app.config["INQUIRY_RATE_LIMIT"] = configured
        limiter.reset()


# -- the visitor-IP setting -------------------------------------------------------------------


def test_the_ip_is_stored_only_with_the_setting_on(app, db, dealer_ids, policy):
    ip = f"192.0.2.{random.randrange(100, 250)}"
    with recording_ips(db, dealer_ids[A], True):
        response, on = send_inquiry(visitor(app, ip), marketing=True)
        assert response.status_code == 200
        assert confirm_marketing(visitor(app, ip), db, on["email"]).status_code == 200
    response, off = send_inquiry(visitor(app, ip), marketing=True)
    assert response.status_code == 200
    assert confirm_marketing(visitor(app, ip), db, off["email"]).status_code == 200

    recorded = inquiry_by_email(db, on["email"])
    assert recorded.ip_address == ip and recorded.user_agent.startswith("ConsentTest/1.0")
    assert [r.ip_address for r in records(db, email=on["email"])] == [ip, ip]
    unrecorded = inquiry_by_email(db, off["email"])
    assert unrecorded.ip_address is None and unrecorded.user_agent is None
    assert [r.ip_address for r in records(db, email=off["email"])] == [None, None]


def test_a_recorded_ip_is_erased_with_the_rest(app, db, dealer_ids, policy):
    ip = f"192.0.2.{random.randrange(100, 250)}"
    with recording_ips(db, dealer_ids[A], True):
        _, data = send_inquiry(visitor(app, ip), marketing=True)
        confirm_marketing(visitor(app, ip), db, data["email"])
    assert scan_all_text_columns(db.session, [ip])  # it is there...
    privacy = user_id(db, "privacy")
    request = intake.file_request(
        db.session,
        request_type=RequestType.erasure,
        email=data["email"],
        dealer_id=dealer_ids[A],
        channel=RequestChannel.dealer_admin,
        actor_id=user_id(db, A_ADMIN),
    )
    db.session.flush()
    erasure_preview.preview(db.session, request, actor_id=privacy)
    db.session.commit()
    processing.request_processing(db.session, request, privacy, confirm_erasure=True)
    db.session.commit()
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()
    assert scan_all_text_columns(db.session, [ip, data["email"]]) == {}  # ...and gone with the person


def test_with_the_setting_off_the_ip_is_nowhere(app, db, dealer_ids, policy, caplog):
    ip = f"198.18.{random.randrange(1, 254)}.{random.randrange(100, 254)}"
    forwarded = f"198.19.{random.randrange(1, 254)}.{random.randrange(100, 254)}"
    assert db.session.get(Dealer, dealer_ids[A]).record_visitor_ip is False
    caplog.set_level(logging.DEBUG)
    limiter = app.appbuilder.sm.limiter
    limiter.reset()
    client = visitor(app, ip, forwarded_for=forwarded)

    with every_logger_enabled():
        response, data = send_inquiry(client, marketing=True)
        assert response.status_code == 200 and MARKETING_LINE in response.get_data(as_text=True)
        assert confirm_marketing(client, db, data["email"]).status_code == 200
        token = token_from(client.get(f"/d/{A}/marketing").get_data(as_text=True))
        assert client.post(f"/d/{A}/marketing", data={"csrf_token": token, "email": data["email"]}).status_code == 200
        link = urlsplit(unsubscribe.unsubscribe_url(dealer_ids[A], data["email"], db.session)).path
        assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    entries = records(db, email=data["email"])
    assert [(r.action, r.method) for r in entries] == [
        (ConsentAction.acknowledged, ConsentMethod.inquiry_form),
        (ConsentAction.given, ConsentMethod.double_opt_in),
        (ConsentAction.withdrawn, ConsentMethod.public_page),  # the link after it finds nothing to withdraw
    ]
    assert scan_all_text_columns(db.session, [ip, forwarded]) == {}
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "received for dealer" in logged  # the app's own lines were captured
    assert ip not in logged and forwarded not in logged
    keys = " ".join([*limiter.storage.storage, *limiter.storage.events, *limiter.storage.expirations])
    assert ip not in keys and forwarded not in keys


# -- withdrawing ---------------------------------------------------------------------------------


def test_the_one_click_unsubscribe_link(app, db, dealer_ids, policy):
    address = new_email()
    target = make_client(db, dealer_ids[A], address, consent_given=True)
    other_dealer = make_client(db, dealer_ids[B], address, consent_given=True)
    url = unsubscribe.unsubscribe_url(dealer_ids[A], address, db.session)
    assert url.startswith(app.config["PUBLIC_BASE_URL"]) and address not in url
    path = urlsplit(url).path
    client = visitor(app)

    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["X-Robots-Tag"] == "noindex"
    main = html.split("</nav>", 1)[1]  # the page itself, not the language switcher's buttons
    assert len(re.findall(r"<button", main)) == 1 and 'method="post"' in main
    assert db.session.get(Client, target.id).marketing_consent is True  # a GET changes nothing
    assert records(db, client_id=target.id, method=ConsentMethod.unsubscribe_link) == []

    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    wrong_slug = path.replace(f"/d/{A}/", f"/d/{B}/")
    for bad in (tampered, wrong_slug, f"/d/{A}/unsubscribe/not-a-token"):
        assert client.get(bad).status_code == 404
        assert client.post(bad, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert db.session.get(Client, target.id).marketing_consent is True

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no CSRF token.
    done = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "will not send you offers any more" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, target.id).marketing_consent is False
    assert db.session.get(Client, target.id).marketing_consent_at is None
    [withdrawn] = records(db, client_id=target.id, purpose=ConsentPurpose.marketing, action=ConsentAction.withdrawn)
    assert withdrawn.method is ConsentMethod.unsubscribe_link and withdrawn.source == "email:marketing_offer"
    assert withdrawn.policy_version_id == policy and withdrawn.email == address
    assert db.session.get(Client, other_dealer.id).marketing_consent is True  # another controller's consent

    # The person's own click after the mail client's one-click POST: the same answer, no second record.
    again = client.post(path)
    assert again.status_code == 200 and "will not send you offers any more" in again.get_data(as_text=True)
    db.session.expire_all()
    assert len(records(db, client_id=target.id, purpose=ConsentPurpose.marketing, action=ConsentAction.withdrawn)) == 1


def test_marketing_mail_carries_the_footer_and_one_click_headers(app, db, dealer_ids, policy, smtp):
    address = new_email()
    subscriber = make_client(db, dealer_ids[A], address, consent_given=True)
    assert marketing_mail.queue_marketing_mail(db.session, dealer_ids[A], new_email(), subject="x", body="y") is None
    message = marketing_mail.queue_marketing_mail(db.session, dealer_ids[A], address, subject="Spring offers", body="New cars in stock.")
    db.session.commit()
    run_queue(app)

    [sent] = smtp.collector.to(address)
    assert sent["Subject"] == "Spring offers"
    header = sent["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header[1:-1]
    assert link in sent.get_body(("plain",)).get_content()
    assert link in sent.get_body(("html",)).get_content()
    db.session.expire_all()
    assert db.session.get(MailMessage, message.id).sent_at is not None

    response = visitor(app).post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Client, subscriber.id).marketing_consent is False
    assert marketing_mail.queue_marketing_mail(db.session, dealer_ids[A], address, subject="x", body="y") is None


def test_other_mail_gets_no_unsubscribe_headers(app, db):
    message = MailMessage(kind="verification", to_address=new_email(), subject="s", body_text="/d/x/unsubscribe/abc")
    assert unsubscribe.list_unsubscribe_headers(message) == {}
    forged = MailMessage(
        kind="marketing_offer",
        to_address=new_email(),
        subject="s",
        body_text="http://127.0.0.1:5000/d/north-motors/unsubscribe/forged.token",
    )
    assert unsubscribe.list_unsubscribe_headers(forged) == {}


def test_the_public_withdrawal_page(app, db, dealer_ids, policy):
    address = new_email()
    subscriber = make_client(db, dealer_ids[A], address, consent_given=True)
    twin = make_client(db, dealer_ids[A], address, consent_given=True)
    elsewhere = make_client(db, dealer_ids[B], address, consent_given=True)
    client = visitor(app)
    page = f"/d/{A}/marketing"

    def withdraw(value: str):
        token = token_from(client.get(page).get_data(as_text=True))
        return client.post(page, data={"csrf_token": token, "email": value})

    before = counts(db)
    unknown = withdraw(new_email())
    assert counts(db) == before  # nothing stored about an unknown address
    known = withdraw(f"  {address.upper()} ")
    assert unknown.status_code == known.status_code == 200

    def answer(response) -> str:
        return re.search(r'role="status">([^<]+)<', response.get_data(as_text=True)).group(1)

    assert answer(unknown) == answer(known)  # the page never tells whether the address is known
    db.session.expire_all()
    assert db.session.get(Client, subscriber.id).marketing_consent is False
    assert db.session.get(Client, twin.id).marketing_consent is False
    assert db.session.get(Client, elsewhere.id).marketing_consent is True
    for entry in (records(db, client_id=subscriber.id), records(db, client_id=twin.id)):
        [withdrawn] = [r for r in entry if r.action is ConsentAction.withdrawn]
        assert withdrawn.method is ConsentMethod.public_page and withdrawn.source == page
        assert withdrawn.policy_version_id == policy and withdrawn.ip_address is None

    # Again, or for a client who never consented: the same answer and nothing recorded.
    never = make_client(db, dealer_ids[A], new_email(), consent_given=False)
    before = counts(db)
    for value in (address, never.email):
        response = withdraw(value)
        assert response.status_code == 200 and answer(response) == answer(known)
    assert counts(db) == before
    assert records(db, client_id=never.id, action=ConsentAction.withdrawn) == []

    bad = withdraw("not-an-address")
    assert bad.status_code == 422 and "Enter a valid email address" in bad.get_data(as_text=True)
    assert client.post(page, data={"email": address}).status_code == 400  # the form needs its CSRF token


# -- every change of consent is recorded ---------------------------------------------------------


def test_staff_toggling_consent_in_the_client_form_leaves_a_record(app, db, login, api, dealer_ids, policy):
    target = make_client(db, dealer_ids[A])
    browser = login(A_STAFF)
    url = f"/clientmodelview/edit/{target.id}"
    fields = {"first_name": target.first_name, "last_name": target.last_name, "email": target.email, "country": "DE", "source": "walk_in"}
    assert browser.post_form(url, {**fields, "marketing_consent": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, target.id).marketing_consent is True
    [given] = records(db, client_id=target.id)
    assert (given.purpose, given.action, given.method) == (ConsentPurpose.marketing, ConsentAction.given, ConsentMethod.staff)
    assert given.recorded_by_id == user_id(db, A_STAFF) and given.source == url
    assert given.policy_version_id == policy and given.email == target.email

    assert browser.post_form(url, fields).status_code == 302  # unticked: withdrawn
    assert browser.post_form(url, {**fields, "notes": "called"}).status_code == 302  # no change: no record
    response = api(A_ADMIN).put(f"/api/v1/client/{target.id}", json={"marketing_consent": True})
    assert response.status_code == 200
    entries = records(db, client_id=target.id)
    assert [(r.action, r.method) for r in entries] == [
        (ConsentAction.given, ConsentMethod.staff),
        (ConsentAction.withdrawn, ConsentMethod.staff),
        (ConsentAction.given, ConsentMethod.staff),
    ]
    assert entries[-1].recorded_by_id == user_id(db, A_ADMIN) and entries[-1].source == f"/api/v1/client/{target.id}"

    # The client's page shows its consent history.
    html = browser.get(f"/clientmodelview/show/{target.id}").get_data(as_text=True)
    assert "Consent ledger" in html and "Recorded by staff" in html


def test_objection_leaves_a_record_and_consent_cannot_be_given_again(app, db, dealer_ids, policy):
    address = new_email()
    target = make_client(db, dealer_ids[A], address, consent_given=True)
    admin = user_id(db, A_ADMIN)
    request = intake.file_request(
        db.session,
        request_type=RequestType.objection,
        email=address,
        dealer_id=dealer_ids[A],
        channel=RequestChannel.dealer_admin,
        actor_id=admin,
    )
    db.session.flush()
    processing.request_processing(db.session, request, actor_id=admin)
    db.session.commit()
    enqueue_request(request.id)
    run_queue(app)

    db.session.expire_all()
    assert db.session.get(Client, target.id).marketing_consent is False
    marketing = records(db, client_id=target.id, purpose=ConsentPurpose.marketing)
    assert [(r.action, r.method) for r in marketing] == [
        (ConsentAction.given, ConsentMethod.staff),  # made with consent
        (ConsentAction.withdrawn, ConsentMethod.objection),  # exactly one record for the objection
    ]
    assert marketing[-1].source == f"privacy_request:{request.reference}"

    # Ticking marketing consent on the public form afterwards changes nothing and mails nothing.
    response, _ = send_inquiry(visitor(app), marketing=True, email=address)
    assert response.status_code == 200
    db.session.expire_all()
    assert (
        db.session.scalars(select(MailMessage).where(MailMessage.kind == "marketing_confirmation", MailMessage.to_address == address)).all()
        == []
    )
    assert db.session.get(Client, target.id).marketing_consent is False
    assert len(records(db, client_id=target.id, purpose=ConsentPurpose.marketing)) == 2
    assert records(db, client_id=target.id, purpose=ConsentPurpose.privacy_notice)  # the acknowledgement is kept


def test_a_consent_change_made_outside_any_form_is_recorded_too(app, db, dealer_ids, policy):
    target = make_client(db, dealer_ids[B])
    target.marketing_consent = True
    db.session.commit()
    db.session.expire_all()  # set again without the old value loaded
    target = db.session.get(Client, target.id)
    target.marketing_consent = True
    db.session.commit()
    [entry] = records(db, client_id=target.id)
    assert entry.action is ConsentAction.given and entry.method is ConsentMethod.staff
    entry.source = "changed"
    with pytest.raises(RuntimeError):
        db.session.flush()  # the ledger is append-only
    db.session.rollback()


# -- the ledger view -----------------------------------------------------------------------------


def test_the_consent_ledger_is_read_only_and_tenant_scoped(app, db, login, dealer_ids, policy):
    mine = make_client(db, dealer_ids[A], consent_given=True)
    theirs = make_client(db, dealer_ids[B], consent_given=True)
    [mine_record] = records(db, client_id=mine.id)
    [their_record] = records(db, client_id=theirs.id)

    officer = login("privacy")
    listing = officer.get(f"/consentledger/list/?_flt_0_email={theirs.email}").get_data(as_text=True)
    assert f"/consentledger/show/{their_record.id}" in listing
    assert officer.get(f"/consentledger/show/{mine_record.id}").status_code == 200
    assert 'href="/consentledger/list/"' in officer.get("/").get_data(as_text=True)  # Privacy menu

    for username in (A_ADMIN, A_STAFF):
        browser = login(username)
        assert browser.get(f"/consentledger/show/{mine_record.id}").status_code == 200
        assert browser.get(f"/consentledger/show/{their_record.id}").status_code == 404
        listing = browser.get("/consentledger/list/?psize_ConsentRecordView=100").get_data(as_text=True)
        assert f"/consentledger/show/{their_record.id}" not in listing
        for url in ("/consentledger/add", f"/consentledger/edit/{mine_record.id}", f"/consentledger/delete/{mine_record.id}"):
            assert browser.get(url).status_code in (302, 403, 404, 405), url
        assert browser.post_form(f"/consentledger/delete/{mine_record.id}", {}, form_url="/consentledger/list/").status_code in (
            302,
            403,
            404,
            405,
        )
    assert len(records(db, client_id=mine.id)) == 1
    assert login("staff").get("/consentledger/list/").status_code in (302, 403)
