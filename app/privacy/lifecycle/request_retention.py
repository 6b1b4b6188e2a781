"""Retention for the privacy machinery itself: privacy requests, their event logs, their
rectification records and the mails about them.

An unconfirmed request (a name and an e-mail address nobody confirmed) goes
``UNCONFIRMED_REQUEST_GRACE_DAYS`` after its confirmation link expired. A closed request
(completed, refused, cancelled) is the proof of how it was answered; it goes
``REQUEST_RECORD_YEARS`` after it was closed, as its ``__privacy__`` declaration says, with
its events, rectification records and mails. A restriction still in effect is kept: its
record is what lets the person be told before it is lifted (GDPR Art. 18(3)).

Mail sent before the ``mail_outbox`` sweep's cutoff is that sweep's (so a dry run of all
sweeps counts no row twice); these sweeps take the rest. Both are ``(session, as_of,
dry_run) -> counts`` functions listed in ``retention.SWEEPS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from app.domain import periods
from app.models import (
    CLOSED_STATUSES,
    MailMessage,
    PrivacyRequest,
    PrivacyRequestEvent,
    RectificationChange,
    RequestStatus,
    RequestType,
)
from app.privacy.lifecycle.sweeping import Counts, Tally, count, mail_cutoff
from app.privacy.requests.erasure_rows import delete_rows

KEPT_IN_EFFECT = "kept_restriction_in_effect"


def unconfirmed_due(as_of: datetime) -> tuple:
    """Unconfirmed requests whose link expired more than the grace period before ``as_of``
    (one without an expiry counts from its receipt plus the link's lifetime)."""
    cutoff = as_of - timedelta(days=periods.UNCONFIRMED_REQUEST_GRACE_DAYS)
    lifetime = timedelta(hours=periods.PRIVACY_VERIFICATION_TTL_HOURS)
    expires: Any = PrivacyRequest.verification_expires_at
    received: Any = PrivacyRequest.received_at
    return (
        PrivacyRequest.status == RequestStatus.awaiting_verification,
        or_(and_(expires.is_not(None), expires < cutoff), and_(expires.is_(None), received < cutoff - lifetime)),
    )


def closed_due(as_of: datetime) -> tuple:
    """Requests closed more than ``REQUEST_RECORD_YEARS`` before ``as_of``."""
    closed_at: Any = func.coalesce(
        PrivacyRequest.completed_at, PrivacyRequest.refused_at, PrivacyRequest.cancelled_at, PrivacyRequest.received_at
    )
    return (PrivacyRequest.status.in_(CLOSED_STATUSES), closed_at < as_of - relativedelta(years=periods.REQUEST_RECORD_YEARS))


def sweep_unconfirmed_requests(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    tally = Tally()
    ids: list[int] = list(session.scalars(select(PrivacyRequest.id).where(*unconfirmed_due(as_of)).order_by(PrivacyRequest.id)))
    delete_requests(session, ids, as_of, dry_run, tally)
    return tally.as_dict()


def sweep_closed_requests(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    tally = Tally()
    ids: list[int] = list(session.scalars(select(PrivacyRequest.id).where(*closed_due(as_of)).order_by(PrivacyRequest.id)))
    in_effect = restrictions_in_effect(session, ids)
    tally.add("privacy_request", KEPT_IN_EFFECT, len(in_effect))
    delete_requests(session, [i for i in ids if i not in in_effect], as_of, dry_run, tally)
    return tally.as_dict()


def restrictions_in_effect(session: Session, ids: Iterable[int]) -> set[int]:
    """Completed restrictions among ``ids`` that still restrict some of the person's data."""
    from app.privacy.requests.restriction import restricted_rows

    ids = list(ids)
    if not ids:
        return set()
    query: Any = select(PrivacyRequest).where(
        PrivacyRequest.id.in_(ids),
        PrivacyRequest.request_type == RequestType.restriction,
        PrivacyRequest.status == RequestStatus.completed,
    )
    return {request.id for request in session.scalars(query) if any(restricted_rows(session, request).values())}


def delete_requests(session: Session, ids: list[int], as_of: datetime, dry_run: bool, tally: Tally) -> None:
    """Delete these requests with their events, rectification records and mails (those not
    the ``mail_outbox`` sweep's), one commit per batch; a dry run only counts."""
    size = max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        sent: Any = MailMessage.sent_at
        mails = (MailMessage.request_id.in_(batch), not_(and_(sent.is_not(None), sent < mail_cutoff(as_of))))
        tally.add("mail_message", "deleted", count(session, MailMessage, mails))
        tally.add("privacy_request_event", "deleted", count(session, PrivacyRequestEvent, (PrivacyRequestEvent.request_id.in_(batch),)))
        tally.add("rectification_change", "deleted", count(session, RectificationChange, (RectificationChange.request_id.in_(batch),)))
        tally.add("privacy_request", "deleted", len(batch))
        if dry_run:
            continue
        delete_rows(session, MailMessage, and_(*mails))
        delete_rows(session, PrivacyRequest, batch)  # events and rectification records go with it
        session.commit()
