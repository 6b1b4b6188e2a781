"""Sending the mail outbox: one message per job, at most once marked sent.

Without ``MAIL_SERVER`` (development) a message is only marked sent with the transport
``outbox``: the Mail outbox view shows it. With a server it goes out over SMTP. Any
failure, building the message included, is recorded (attempts, the kind of error without
personal data) and re-raised, so RQ retries it with back-off (``app.queueing.RETRY``). When
the last try fails too, the message is marked ``failed_at`` (the outbox shows it) and the
privacy officer gets a notice. Header values are made single-line here whatever the
input was (defence in depth: the forms refuse line breaks already). Messages about an
erased person are emptied once they are sent (``scrub_after_send``).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Collection
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import Select, select

from app.domain.text import one_line
from app.extensions import db
from app.models import MailMessage
from app.models.base import utcnow
from app.queueing import RETRY

log = logging.getLogger(__name__)

ERASED = "[erased]"
# The cron sweep gives up on a message that could not be sent for this long; the
# outbox view still shows it, with its last error.
RESEND_FOR = timedelta(days=7)
# The reconciler (every minute) takes a message still unsent this long after it was
# written, whose job is not live, for lost: it is enqueued right after its commit.
LOST_AFTER = timedelta(minutes=1)
# The first try and RQ's retries.
MAX_ATTEMPTS = RETRY.max + 1
FAILED_NOTICE = "mail_failed"


def send_message(message_id: int) -> str:
    """Send one outbox message; sending it again does nothing ("already sent")."""
    message = db.session.get(MailMessage, message_id, with_for_update=True)
    if message is None:
        db.session.rollback()
        return "no such message"
    kind, request_id = message.kind, message.request_id
    if message.sent_at is not None:
        db.session.rollback()
        result = "already sent"
    elif message.failed_at is not None:
        db.session.rollback()
        return "given up"
    elif not message.to_address:
        message.last_error = "no recipient address"
        db.session.commit()
        log.warning("mail %s has no recipient address", message_id)
        return "no address"
    else:
        transport = _deliver(message)
        message.sent_at = utcnow()
        message.transport = transport
        message.last_error = None
        if message.scrub_after_send:
            _scrub(message)
        db.session.commit()
        log.info("mail %s (%s) sent via %s", message_id, kind, transport)
        result = "sent"
    _after_sent(kind, request_id)
    return result


def _deliver(message: MailMessage) -> str:
    """Hand the message to the SMTP server (or keep it in the outbox); the transport."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return "outbox"
    message.attempts = (message.attempts or 0) + 1  # type: ignore[assignment]  # untyped Column model
    try:
        email = _email(message, config["MAIL_DEFAULT_SENDER"])
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(email)
    except Exception as error:  # every failure is recorded; RQ retries it
        _record_failure(message, error)
        raise
    return "smtp"


def _record_failure(message: MailMessage, error: Exception) -> None:
    """Attempts and the kind of error; after the last try: given up, the officer told."""
    message.last_error = _describe(error)  # type: ignore[assignment]  # untyped Column model
    message_id, attempts, last_error = message.id, message.attempts, message.last_error
    gave_up = attempts >= MAX_ATTEMPTS
    if gave_up:
        message.failed_at = utcnow()  # type: ignore[assignment]  # untyped Column model
        _tell_privacy_officer(message)
    db.session.commit()
    log.warning("mail %s not sent (attempt %d of %d): %s", message_id, attempts, MAX_ATTEMPTS, last_error)
    if gave_up:
        log.error("mail %s given up after %d attempts", message_id, attempts)


def _tell_privacy_officer(message: MailMessage) -> None:
    """A notice without personal data: the kind, the id, the error and the outbox link.
    Never about a failed notice of this kind itself (the outbox still flags it)."""
    config = current_app.config
    officer = (config.get("PRIVACY_OFFICER_EMAIL") or "").strip()
    if not officer or message.kind == FAILED_NOTICE:
        return
    from app.mail.notices import queue_notice
    from app.privacy.links import public_url

    queue_notice(
        db.session,
        FAILED_NOTICE,
        to=officer,
        language=config["BABEL_DEFAULT_LOCALE"],
        failed=message,
        outbox_url=public_url(f"/mailoutbox/show/{message.id}"),
    )


def _email(message: MailMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = one_line(message.subject)  # type: ignore[arg-type]  # untyped Column model
    email["From"] = one_line(sender)
    email["To"] = one_line(message.to_address)  # type: ignore[arg-type]  # untyped Column model
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid(idstring=f"mail-{message.id}")
    email["Auto-Submitted"] = "auto-generated"
    from app.privacy.consent.unsubscribe import list_unsubscribe_headers

    for name, value in list_unsubscribe_headers(message).items():  # marketing: one-click unsubscribe
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    email["Content-Language"] = message.language  # after set_content, which clears Content-*
    return email


def _describe(error: Exception) -> str:
    """The kind of failure and the SMTP code; never the server's text, which may quote
    the address."""
    code = getattr(error, "smtp_code", None) or getattr(error, "errno", None)
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:300]


def _scrub(message: MailMessage) -> None:
    message.to_address = None  # type: ignore[assignment]  # untyped Column model
    message.subject = ERASED  # type: ignore[assignment]  # untyped Column model
    message.body_text = ERASED  # type: ignore[assignment]  # untyped Column model
    message.body_html = None  # type: ignore[assignment]  # untyped Column model
    message.scrubbed_at = utcnow()  # type: ignore[assignment]  # untyped Column model


def _after_sent(kind: str, request_id: int | None) -> None:
    """A restriction is lifted only once the person has been told (GDPR Art. 18(3)).

    Also run when the message was already sent, so a lift that failed is retried;
    ``complete_lift`` is idempotent.
    """
    if kind != "restriction_lifting" or request_id is None:
        return
    from app.privacy.requests.restriction import complete_lift

    complete_lift(db.session, request_id)
    db.session.commit()


def resend_unsent(older_than: timedelta = timedelta(minutes=10), message_ids: Collection[int] | None = None) -> int:
    """Enqueue messages still unsent after ``older_than`` whose job is gone; how many.
    ``message_ids`` looks at these messages only."""
    from app.queueing import enqueue_mail, has_live_job, mail_job_id

    now = utcnow()
    query: Select = select(MailMessage.id).where(
        MailMessage.sent_at.is_(None),
        MailMessage.failed_at.is_(None),
        MailMessage.to_address.is_not(None),
        MailMessage.created_at < now - older_than,  # type: ignore[arg-type]  # untyped Column model
        MailMessage.created_at > now - RESEND_FOR,  # type: ignore[arg-type]  # untyped Column model
    )
    if message_ids is not None:
        query = query.where(MailMessage.id.in_(list(message_ids)))
    ids = db.session.scalars(query.order_by(MailMessage.id)).all()
    db.session.rollback()
    count = 0
    for message_id in ids:
        if not has_live_job(mail_job_id(message_id)):
            enqueue_mail(message_id)
            count += 1
    log.info("re-enqueued %d unsent mail message(s)", count)
    return count
