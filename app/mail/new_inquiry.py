"""Telling a dealer's users that a new inquiry arrived: one e-mail each, in the user's
language, with the link to open it. The mail names no one (the outbox keeps it): who
wrote and what stays behind the sign-in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.mail.audience import active_users, user_language
from app.mail.notices import queue_notice
from app.models import Inquiry, MailMessage

KIND = "new_inquiry"


def notify_new_inquiry(session: Session, inquiry: Inquiry, *, except_user_id: int | None = None) -> list[MailMessage]:
    """Queue the notice for every active user of the inquiry's dealer (not the one who
    entered it). The caller commits; the messages are sent after the commit."""
    from app.privacy.links import public_url

    session.flush()  # the link names the inquiry
    link = public_url(f"/inquirymodelview/show/{inquiry.id}")
    messages = []
    for user in active_users(session, dealer_id=inquiry.dealer_id):
        if user.id == except_user_id:
            continue
        messages.append(
            queue_notice(
                session,
                KIND,
                to=user.email,
                language=user_language(user),
                dealer=inquiry.dealer,
                inquiry=inquiry,
                inquiry_url=link,
            )
        )
    return messages
