"""Notices leave through the real queue and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from rq.job import Job, JobStatus
from sqlalchemy import select

from app.domain.formatting import format_datetime
from app.extensions import get_queue, redis_connection
from app.mail import notices
from app.mail.sending import ERASED, resend_unsent, send_message
from app.models import MailMessage, PrivacyRequest, RequestChannel
from app.models.base import utcnow
from app.privacy.requests import intake
from app.queueing import mail_job_id
from tests.factories import new_email
from tests.queue_support import run_queue


def file_request(db, language: str = "en") -> PrivacyRequest:
    """A public request: its verification notice is queued and, on commit, enqueued."""
    filed = intake.file_request(
        db.session, request_type="access", email=new_email("mail"), channel=RequestChannel.public_form, language=language
    )
    db.session.commit()
    return filed


def outbox(db, request_id: int) -> list[MailMessage]:
    db.session.rollback()
    return db.session.scalars(select(MailMessage).where(MailMessage.request_id == request_id).order_by(MailMessage.id)).all()


def test_a_notice_goes_out_over_smtp_in_the_persons_language(app, db, smtp):
    filed = file_request(db, language="de")
    address, reference = filed.subject_email, filed.reference
    run_queue(app)

    received = smtp.collector.to(address)
    assert len(received) == 1
    mail = received[0]
    assert reference in mail["Subject"]
    assert mail["Content-Language"] == "de"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "/privacy/request/verify/" in text and "/privacy/request/verify/" in html
    # Dates are written the way the person's language writes them.
    with force_locale("de"):
        german = format_datetime(filed.verification_expires_at)
    with force_locale("en"):
        english = format_datetime(filed.verification_expires_at)
    assert german != english
    assert german in text and english not in text

    (message,) = outbox(db, filed.id)
    assert message.sent_at is not None and message.transport == "smtp"
    assert message.attempts == 1 and message.last_error is None


def test_a_sent_message_is_not_sent_twice(app, db, smtp):
    from app.queueing import enqueue_mail

    filed = file_request(db)
    run_queue(app)
    (message,) = outbox(db, filed.id)
    assert len(smtp.collector.to(filed.subject_email)) == 1

    with app.app_context():
        job = enqueue_mail(message.id)
    run_queue(app)
    job.refresh()
    assert job.return_value() == "already sent"
    assert len(smtp.collector.to(filed.subject_email)) == 1
    assert outbox(db, filed.id)[0].attempts == 1


def test_a_failed_delivery_is_recorded_without_personal_data_and_retried(app, db, smtp):
    run_queue(app)  # send what earlier tests left, so only this message fails below
    filed = file_request(db)
    (message,) = outbox(db, filed.id)
    smtp.stop()
    try:
        run_queue(app)
        failed = outbox(db, filed.id)[0]
        assert failed.sent_at is None
        assert failed.attempts == 1
        assert failed.last_error.startswith("ConnectionRefusedError")
        assert filed.subject_email not in failed.last_error
        with app.app_context():
            job = Job.fetch(mail_job_id(message.id), connection=redis_connection())
            assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it later
            assert job.retries_left == 2

        smtp.start()
        with app.app_context():
            assert send_message(message.id) == "sent"
            job.delete()
    finally:
        if smtp.controller is None:
            smtp.start()
    sent = outbox(db, filed.id)[0]
    assert sent.sent_at is not None and sent.attempts == 2 and sent.last_error is None
    assert len(smtp.collector.to(filed.subject_email)) == 1


def test_a_message_about_an_erased_person_is_emptied_once_sent(app, db, smtp):
    address = new_email("mail")
    filed = file_request(db)
    notices.queue_notice(db.session, "completed", request=filed, to=address, scrub_after_send=True)
    db.session.commit()
    run_queue(app)

    (mail,) = smtp.collector.to(address)
    assert filed.reference in mail.get_body(preferencelist=("plain",)).get_content()
    (scrubbed,) = (m for m in outbox(db, filed.id) if m.kind == "completed")
    assert scrubbed.sent_at is not None and scrubbed.scrubbed_at is not None
    assert scrubbed.to_address is None and scrubbed.body_html is None
    assert scrubbed.subject == ERASED and scrubbed.body_text == ERASED


def test_without_a_mail_server_messages_stay_in_the_outbox(app, db, smtp):
    app.config["MAIL_SERVER"] = None  # the fixture restores it
    filed = file_request(db)
    run_queue(app)
    (message,) = outbox(db, filed.id)
    assert message.sent_at is not None and message.transport == "outbox" and message.attempts == 0
    assert smtp.collector.to(filed.subject_email) == []


def test_unsent_messages_whose_job_was_lost_are_sent_again(app, db, smtp):
    filed = file_request(db)
    (message,) = outbox(db, filed.id)
    with app.app_context():
        Job.fetch(mail_job_id(message.id), connection=redis_connection()).delete()  # the job is lost
    message.created_at = utcnow() - timedelta(minutes=30)
    db.session.commit()

    with app.app_context():
        assert resend_unsent(message_ids=[message.id]) == 1
        assert resend_unsent(message_ids=[message.id]) == 0  # a second sweep leaves the queued job alone
        assert get_queue().get_job_ids().count(mail_job_id(message.id)) == 1
    run_queue(app)
    assert outbox(db, filed.id)[0].sent_at is not None
    assert len(smtp.collector.to(filed.subject_email)) == 1


def test_the_cron_sweeps_unsent_mail(app):
    from jobs.worker import build_cron

    with app.app_context():
        assert "resend-unsent-mail" in [job.name for job in build_cron(app).get_jobs()]


def test_the_outbox_is_for_the_privacy_officer_only(app, db, login):
    filed = file_request(db)
    (message,) = outbox(db, filed.id)

    officer = login("privacy")
    assert "Mail outbox" in officer.get("/").get_data(as_text=True)
    listing = officer.get("/mailoutbox/list/")
    assert listing.status_code == 200
    assert message.subject in listing.get_data(as_text=True)
    shown = officer.get(f"/mailoutbox/show/{message.id}")
    assert shown.status_code == 200
    assert "/privacy/request/verify/" in shown.get_data(as_text=True)
    for url in ("/mailoutbox/add", f"/mailoutbox/edit/{message.id}", f"/mailoutbox/delete/{message.id}"):
        assert officer.get(url).status_code != 200

    dealer = login("north-motors-admin")
    assert "Mail outbox" not in dealer.get("/").get_data(as_text=True)
    refused = dealer.get("/mailoutbox/list/")
    assert refused.status_code != 200
    assert message.subject not in refused.get_data(as_text=True)
    assert message.subject not in dealer.get(f"/mailoutbox/show/{message.id}", follow_redirects=True).get_data(as_text=True)
