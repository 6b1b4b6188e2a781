"""Telling the recipients of a client's data about rectification, erasure and restriction
(GDPR Art. 19), from the disclosure log.

One notice per recipient address and action; recipients without an e-mail address are
counted so the officer can tell them by other means. The request's event log holds the
counts only, never the recipients.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from app.mail import notices
from app.models import Disclosure, PrivacyRequest, PrivacyRequestEvent
from app.privacy.requests.intake import record_event

ACTIONS = ("rectification", "erasure", "restriction")
NOTIFIED = "recipients_notified"


def disclosures_of(session: Session, request: PrivacyRequest, client_ids: list[int]) -> list[Disclosure]:
    """The disclosures of those clients, within the request's scope."""
    if not client_ids:
        return []
    query = select(Disclosure).where(Disclosure.client_id.in_(client_ids))
    if request.dealer_id is not None:
        query = query.where(Disclosure.dealer_id == request.dealer_id)
    return list(session.scalars(query.order_by(Disclosure.id)))


def already_notified(session: Session, request: PrivacyRequest, action: str) -> bool:
    if request.id is None:
        return False
    kinds: ScalarResult[dict[str, Any] | None] = session.scalars(
        select(PrivacyRequestEvent.data).where(PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == NOTIFIED)
    )
    return any((data or {}).get("action") == action for data in kinds)


def notify_recipients(session: Session, request: PrivacyRequest, action: str, client_ids: list[int]) -> int:
    """Queue a notice for each recipient of those clients' data; returns how many were queued.

    Idempotent per request and action: a resumed job does not tell anyone twice.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if already_notified(session, request, action):
        return 0
    sent_to: set[str] = set()
    other_means = 0
    for disclosure in disclosures_of(session, request, client_ids):
        if not disclosure.recipient_email:
            other_means += 1
            continue
        email: str = disclosure.recipient_email  # type: ignore[assignment]  # untyped Column model
        if email in sent_to:
            continue
        sent_to.add(email)
        notices.queue_notice(
            session,
            "recipient_notice",
            to=email,
            language="en",
            request=request,
            recipient=disclosure,
            action=action,
            scrub_after_send=True,
        )
    record_event(session, request, NOTIFIED, action=action, notified=len(sent_to), to_notify_by_other_means=other_means)
    return len(sent_to)
