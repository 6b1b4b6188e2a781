"""Notices to people: rendered in their language into the mail outbox, sent by a job.

``queue_notice`` only adds the row and remembers it on the session; when that session
commits, ``send_outbox_after_commit`` puts one send job per message on the queue. A message
whose job is lost is picked up again by ``jobs.mail.resend_unsent`` (cron).
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from app.domain.text import one_line
from app.i18n.languages import dealer_timezone, force_timezone
from app.models import MailMessage, PrivacyRequest


def queue_notice(
    session: Session,
    kind: str,
    *,
    request: PrivacyRequest | None = None,
    to: str | None = None,
    language: str | None = None,
    scrub_after_send: bool = False,
    **context,
) -> MailMessage:
    """Render ``mail/<kind>.txt`` (and ``.html`` when it exists) into a new outbox row."""
    language = language or (request.language if request is not None else "en")  # type: ignore[assignment]  # untyped Column model
    to = to or (request.subject_email if request is not None else None)  # type: ignore[assignment]  # untyped Column model
    context.setdefault("mail_language", language)
    # Dates in the time zone of the dealer the mail is about, if any.
    timezone = dealer_timezone(request.dealer if request is not None else context.get("dealer"))
    with force_locale(language), force_timezone(timezone):
        # One line whatever the names in it hold: a line break would split the header.
        subject = one_line(render_template(f"mail/{kind}.subject.txt", request=request, **context))[:300]
        body_text = render_template(f"mail/{kind}.txt", request=request, **context)
        body_html = _optional_html(kind, request=request, **context)
    message = MailMessage(
        kind=kind,
        to_address=to,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        request=request,
        scrub_after_send=scrub_after_send,
    )
    session.add(message)
    session.info.setdefault("mail_to_send", []).append(message)
    return message


def send_outbox_after_commit(session: Session) -> None:
    """Session ``after_commit`` hook: the rows exist now, so their jobs may run."""
    messages = session.info.pop("mail_to_send", [])
    if not messages:
        return
    from app.queueing import enqueue_mail

    for message in messages:
        try:
            enqueue_mail(message.id)
        except Exception:  # Redis down: the cron resend picks it up
            import logging

            logging.getLogger(__name__).exception("could not enqueue mail %s", message.id)


def forget_after_rollback(session: Session, *args) -> None:
    session.info.pop("mail_to_send", None)


def _optional_html(kind: str, **context) -> str | None:
    from jinja2 import TemplateNotFound

    try:
        return render_template(f"mail/{kind}.html", **context)
    except TemplateNotFound:
        return None
