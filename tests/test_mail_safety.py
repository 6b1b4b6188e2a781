"""Issue 10, part A and B: mail that cannot be poisoned, and dealer websites that are links.

A line break in a business name (or a person's name) is refused where it is typed; mail
built from older data is made single-line anyway; every failed send is recorded, retried
with back-off by RQ's scheduler, and after the last try flagged in the outbox and told to
the privacy officer. A dealer's website is an http(s) address only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, update

from app.extensions import get_queue, redis_connection
from app.mail import sending
from app.models import Client, Dealer, MailMessage
from app.queueing import enqueue_mail, mail_job_id
from tests.factories import uid
from tests.queue_support import run_queue
from tests.web_support import csrf_token

A = "north-motors"
A_ADMIN = "north-motors-admin"
POISON = "North Motors\r\nBcc: victim@example.net"
LINE_BREAK_ERROR = "Use a single line of text, without line breaks or control characters."
WEBSITE_ERROR = "Enter a web address that starts with http:// or https://"
BAD_WEBSITES = (
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>x</script>",
    "ftp://example.org",
    "www.example.org",
    "https://",
)


def make_retry_due(app, message_id: int) -> bool:
    """Pretend the back-off has passed: the message's job, if scheduled, is due now."""
    with app.app_context():
        registry = ScheduledJobRegistry(queue=get_queue())
        job_id = mail_job_id(message_id)
        if job_id not in registry.get_job_ids():
            return False
        registry.schedule(Job.fetch(job_id, connection=redis_connection()), datetime.now(UTC) - timedelta(seconds=1))
        return True


def outbox_message(db, message_id: int) -> MailMessage:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(MailMessage, message_id)


def new_message(db, **fields) -> MailMessage:
    values = {"kind": "completed", "to_address": f"safety-{uid()}@example.com", "language": "en", "subject": "Hello", "body_text": "Body"}
    values.update(fields)
    message = MailMessage(**values)
    db.session.add(message)
    db.session.commit()
    return message


def dealer(db, slug: str = A) -> Dealer:
    db.session.expire_all()
    return db.session.scalars(select(Dealer).where(Dealer.slug == slug)).one()


def profile_form(item: Dealer, **changes) -> dict:
    form = {
        "business_name": item.business_name,
        "legal_name": item.legal_name or "",
        "address_line1": item.address_line1 or "",
        "address_line2": item.address_line2 or "",
        "postal_code": item.postal_code or "",
        "city": item.city or "",
        "region": item.region or "",
        "country": item.country,
        "phone": item.phone or "",
        "email": item.email or "",
        "website": item.website or "",
        "inquiry_retention_months": str(item.inquiry_retention_months),
        "timezone": item.timezone,
        "default_currency": item.default_currency,
    }
    if item.record_visitor_ip:
        form["record_visitor_ip"] = "y"
    form.update(changes)
    return form


# -- A: refused at the point of entry ------------------------------------------------------


@pytest.mark.parametrize("value", [POISON, "North\nMotors", "North\rMotors", "North\x00Motors", "North\u2028Motors"])
def test_a_line_break_in_the_business_name_is_refused_on_the_profile_form(login, db, value):
    before = dealer(db)
    name = before.business_name
    browser = login(A_ADMIN)
    url = f"/dealerprofileview/edit/{before.id}"
    response = browser.post_form(url, profile_form(before, business_name=value, city="Changed City"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and LINE_BREAK_ERROR in html
    after = dealer(db)
    assert after.business_name == name and after.city == before.city  # nothing changed


def test_a_line_break_in_the_business_name_is_refused_by_the_rest_api(api, db):
    item = dealer(db)
    name = item.business_name
    client = api("admin")
    response = client.put(f"/api/v1/dealer/{item.id}", json={"business_name": POISON, "city": "Elsewhere"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["message"] == {"business_name": [LINE_BREAK_ERROR]}
    assert dealer(db).business_name == name and dealer(db).city != "Elsewhere"

    slug = f"poison-{uid()}"
    created = client.post("/api/v1/dealer/", json={"slug": slug, "business_name": POISON, "country": "DE"})
    assert created.status_code == 422 and "business_name" in created.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Dealer).where(Dealer.slug == slug)) == 0


def test_a_line_break_in_a_clients_name_is_refused(api, db):
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = api(A_ADMIN).post("/api/v1/client/", json={"first_name": "Eve\r\nBcc: x@example.net", "last_name": "Evil"})
    assert response.status_code == 422
    assert response.json["message"] == {"first_name": [LINE_BREAK_ERROR]}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


def test_a_line_break_in_the_name_on_the_public_inquiry_form_is_refused(app, db):
    visitor = app.test_client()
    url = f"/d/{A}/inquiry"
    address = f"crlf-{uid()}@example.com"
    token = csrf_token(visitor, url)
    response = visitor.post(
        url,
        data={"csrf_token": token, "name": "Vera\r\nBcc: x@example.net", "email": address, "message": "Hi", "privacy_notice": "y"},
    )
    assert response.status_code == 422 and LINE_BREAK_ERROR in response.get_data(as_text=True)
    from app.models import Inquiry

    db.session.rollback()
    assert db.session.scalars(select(Inquiry).where(Inquiry.email == address)).all() == []


def test_a_line_break_in_a_users_name_is_refused(app, db):
    from app.domain import DomainError
    from app.models.users import DealerUser

    with pytest.raises(DomainError) as refused:
        DealerUser(username=f"u-{uid()}", first_name="Eve\r\nBcc: x@example.net", last_name="E", email=f"{uid()}@example.com")
    assert refused.value.field == "first_name" and str(refused.value.message) == LINE_BREAK_ERROR
    db.session.rollback()


# -- A: the mail layer cleans headers anyway and records every failure ---------------------------


def test_mail_whose_subject_holds_a_line_break_is_still_sent_on_one_line(app, db, smtp):
    """Data stored before the forms refused line breaks: the notice goes out, one line."""
    run_queue(app)  # what earlier tests left
    message = new_message(db, subject=f"Your dealer {POISON}")
    with app.app_context():
        enqueue_mail(message.id)
    run_queue(app)

    sent = outbox_message(db, message.id)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error is None
    (received,) = smtp.collector.to(message.to_address)
    assert received["Subject"] == "Your dealer North Motors Bcc: victim@example.net"
    assert received["Bcc"] is None
    assert smtp.collector.to("victim@example.net") == []


def test_a_rendered_subject_is_stored_on_one_line(app, db, dealer_ids):
    from app.models import Client as ClientModel
    from app.privacy.consent.marketing_mail import queue_marketing_mail

    address = f"subject-{uid()}@example.com"
    db.session.add(ClientModel(dealer_id=dealer_ids[A], first_name="S", last_name="L", email=address, country="DE", marketing_consent=True))
    db.session.commit()
    message = queue_marketing_mail(db.session, dealer_ids[A], address, subject="Spring\r\nBcc: x@example.net", body="Offers")
    db.session.commit()
    assert message.subject == "Spring Bcc: x@example.net"


def test_a_failure_while_building_the_mail_is_recorded_and_retried(app, db, smtp, monkeypatch):
    run_queue(app)

    def broken(message, sender):
        raise ValueError(f"Header values may not contain linefeed or carriage return characters: {message.to_address}")

    message = new_message(db)
    monkeypatch.setattr(sending, "_email", broken)
    with app.app_context():
        enqueue_mail(message.id)
    run_queue(app)

    failed = outbox_message(db, message.id)
    assert failed.sent_at is None and failed.attempts == 1
    assert failed.last_error == "ValueError"  # the kind only: the text may quote the address
    assert failed.failed_at is None
    with app.app_context():
        job = Job.fetch(mail_job_id(message.id), connection=redis_connection())
        assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
        job.delete()


def test_after_the_last_retry_the_message_is_flagged_and_the_privacy_officer_told(app, db, smtp, login):
    run_queue(app)
    officer_address = app.config["PRIVACY_OFFICER_EMAIL"]
    message = new_message(db, kind="verification")
    person = message.to_address
    with app.app_context():
        enqueue_mail(message.id)
        first_scheduled = None
    smtp.stop()
    try:
        run_queue(app)  # the first try
        with app.app_context():
            registry = ScheduledJobRegistry(queue=get_queue())
            first_scheduled = registry.get_scheduled_time(mail_job_id(message.id))
        # Back-off: the first retry waits (10 s), it does not run at once.
        assert first_scheduled > datetime.now(UTC) + timedelta(seconds=5)
        for attempt in (2, 3, 4):  # RQ's scheduler brings each retry back when due
            assert make_retry_due(app, message.id)
            run_queue(app, with_scheduler=True)
            assert outbox_message(db, message.id).attempts == attempt
    finally:
        smtp.start()

    failed = outbox_message(db, message.id)
    assert failed.sent_at is None and failed.failed_at is not None
    assert failed.attempts == sending.MAX_ATTEMPTS == 4
    assert failed.last_error.startswith("ConnectionRefusedError")
    with app.app_context():
        assert Job.fetch(mail_job_id(message.id), connection=redis_connection()).get_status() == JobStatus.FAILED

    # The privacy officer's notice: no personal data, a link to the message.
    (notice,) = db.session.scalars(select(MailMessage).where(MailMessage.kind == "mail_failed", MailMessage.id > message.id)).all()
    assert notice.to_address == officer_address
    assert f"#{message.id}" in notice.subject and "verification" in notice.subject
    assert f"/mailoutbox/show/{message.id}" in notice.body_text and "4 attempts" in notice.body_text
    assert person not in notice.subject + notice.body_text
    # Its own first try failed with the server still down; its retry goes out.
    assert make_retry_due(app, notice.id)
    run_queue(app, with_scheduler=True)
    assert smtp.collector.to(officer_address)
    assert smtp.collector.to(person) == []

    # Nobody tries it again behind the officer's back: not the job, not the cron sweep.
    with app.app_context():
        assert sending.send_message(message.id) == "given up"
        db.session.execute(
            update(MailMessage).where(MailMessage.id == message.id).values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )
        db.session.commit()
        assert sending.resend_unsent(message_ids=[message.id]) == 0
        assert mail_job_id(message.id) not in get_queue().get_job_ids()
    assert outbox_message(db, message.id).attempts == 4

    # The outbox shows it.
    browser = login("privacy")
    listing = browser.get(f"/mailoutbox/list/?_flt_0_to_address={person}").get_data(as_text=True)
    assert listing.count("mail-failed") == 1 and "Given up" in listing
    shown = browser.get(f"/mailoutbox/show/{message.id}").get_data(as_text=True)
    assert "ConnectionRefusedError" in shown and "Given up" in shown


def test_the_worker_runs_rqs_scheduler_so_retries_come_back(app, monkeypatch):
    from jobs import worker

    seen = {}

    def work(self, burst=False, with_scheduler=False, **kwargs):
        seen.update(burst=burst, with_scheduler=with_scheduler)
        return True

    monkeypatch.setattr(worker.AppWorker, "work", work)
    worker.run_worker(app, ["default"])
    assert seen == {"burst": False, "with_scheduler": True}


# -- B: a dealer's website is an http(s) link --------------------------------------------------


@pytest.mark.parametrize("website", BAD_WEBSITES)
def test_a_dealer_website_must_be_http_or_https_in_the_rest_api(api, db, website):
    item = dealer(db)
    before = item.website
    client = api("admin")
    response = client.put(f"/api/v1/dealer/{item.id}", json={"website": website})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.json["message"]) == ["website"]
    assert WEBSITE_ERROR in response.json["message"]["website"][0]
    assert dealer(db).website == before

    slug = f"web-{uid()}"
    created = client.post("/api/v1/dealer/", json={"slug": slug, "business_name": "Web Cars", "country": "DE", "website": website})
    assert created.status_code == 422 and "website" in created.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Dealer).where(Dealer.slug == slug)) == 0


@pytest.mark.parametrize("website", BAD_WEBSITES[:3])
def test_a_dealer_website_must_be_http_or_https_in_the_forms(login, db, website):
    item = dealer(db)
    before = item.website
    for username, url in ((A_ADMIN, f"/dealerprofileview/edit/{item.id}"), ("staff", f"/dealermodelview/edit/{item.id}")):
        form = profile_form(item, website=website)
        if username == "staff":
            form["slug"] = item.slug
        response = login(username).post_form(url, form)
        assert response.status_code == 200 and WEBSITE_ERROR in response.get_data(as_text=True), username
        assert dealer(db).website == before


def test_http_and_https_websites_are_kept(api, db):
    item = dealer(db)
    before = item.website
    client = api("admin")
    try:
        for website in ("https://north-motors.example/cars?x=1", "http://north-motors.example"):
            response = client.put(f"/api/v1/dealer/{item.id}", json={"website": website})
            assert response.status_code == 200, response.get_data(as_text=True)
            assert dealer(db).website == website
    finally:
        response = client.put(f"/api/v1/dealer/{item.id}", json={"website": before})
        assert response.status_code == 200
