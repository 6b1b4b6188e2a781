"""The life of a privacy request: filing, verification, deadlines, refusal, events.

received → awaiting verification → verified → in progress → completed / refused /
cancelled. The answer is due ``periods.REQUEST_RESPONSE_DAYS`` after receipt; one extension of at most two more
months, with a reason, told to the person before the original due date (GDPR Art. 12(3)).
Functions take a session and ids or rows, never the HTTP request; callers commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError, periods
from app.domain.contact import normalise_email, normalise_phone
from app.mail import notices
from app.models import (
    OPEN_STATUSES,
    Dealer,
    DealerStatus,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.requests.subjects import subject_key

MAX_EXTENSION = relativedelta(months=2)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def record_event(
    session: Session,
    request: PrivacyRequest,
    kind: str,
    actor_id: int | None = None,
    actor_label: str | None = None,
    at: datetime | None = None,
    **data,
) -> PrivacyRequestEvent:
    """Append to the request's log. ``data`` must hold no personal data (counts, ids, codes)."""
    event = PrivacyRequestEvent(
        request=request,
        kind=kind,
        actor_id=actor_id,
        actor_label=actor_label or ("user" if actor_id else "system"),
        at=at or utcnow(),
        data=data or None,
    )
    session.add(event)
    return event


def new_reference() -> str:
    return "PR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def file_request(
    session: Session,
    *,
    request_type: RequestType | str,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    dealer_id: int | None = None,
    client_id: int | None = None,
    channel: RequestChannel = RequestChannel.public_form,
    language: str = "en",
    details: str | None = None,
    actor_id: int | None = None,
    now: datetime | None = None,
    verification_ttl: timedelta = timedelta(hours=periods.PRIVACY_VERIFICATION_TTL_HOURS),
) -> PrivacyRequest:
    """Record a new request (or, for an unconfirmed public one, resume the same request).

    Requests filed by the privacy officer or a dealer admin are verified at once: they
    checked the person against the contact details on file (GDPR Art. 12(6)).
    """
    now = now or utcnow()
    request_type = _request_type(request_type)
    dealer = _active_dealer(session, dealer_id)
    email, phone, name, details = _subject_fields(email, phone, name, details, request_type, dealer)
    if channel is RequestChannel.public_form:
        pending = _pending_unverified(session, request_type, email, phone, dealer_id, now)
        if pending is not None:
            pending.verification_expires_at = now + verification_ttl  # type: ignore[assignment]  # untyped Column model
            record_event(session, pending, "filed_again", actor_label="requester", at=now)
            _send_verification(session, pending, now)
            return pending
    request = PrivacyRequest(
        reference=new_reference(),
        request_type=request_type,
        channel=channel,
        dealer=dealer,
        dealer_id=dealer_id,
        client_id=client_id,
        subject_name=name,
        language=language if language in current_app.config["LANGUAGES"] else "en",
        details=details,
        received_at=now,
        due_at=now + timedelta(days=periods.REQUEST_RESPONSE_DAYS),
        created_by_id=actor_id,
    )
    request.subject_email = email  # type: ignore[assignment]  # untyped Column model
    request.subject_phone = phone  # type: ignore[assignment]  # untyped Column model
    request.subject_key = subject_key(request.subject_email, request.subject_phone)  # type: ignore[arg-type, assignment]  # untyped Column model
    session.add(request)
    record_event(
        session,
        request,
        "received",
        actor_id=actor_id,
        actor_label=None if actor_id else "requester",
        at=now,
        channel=channel.value,
        type=request_type.value,
    )
    if channel is RequestChannel.public_form:
        request.status = RequestStatus.awaiting_verification  # type: ignore[assignment]  # untyped Column model
        request.verification_expires_at = now + verification_ttl  # type: ignore[assignment]  # untyped Column model
        session.flush()  # the link carries the request id
        _send_verification(session, request, now)
    else:
        request.status = RequestStatus.verified  # type: ignore[assignment]  # untyped Column model
        request.verified_at = now  # type: ignore[assignment]  # untyped Column model
        record_event(session, request, "verified", actor_id=actor_id, at=now, method="contact details on file")
    _flag_duplicate(session, request, now)
    return request


def _send_verification(session: Session, request: PrivacyRequest, now: datetime) -> None:
    from app.privacy.links import VERIFY, make_token, public_url

    token = make_token(VERIFY, request.id)  # type: ignore[arg-type]  # untyped Column model
    notices.queue_notice(session, "verification", request=request, verify_url=public_url(f"/privacy/request/verify/{token}"))
    request.verification_sent_at = now  # type: ignore[assignment]  # untyped Column model


def _request_type(value) -> RequestType:
    try:
        return value if isinstance(value, RequestType) else RequestType(value)
    except ValueError:
        raise DomainError(_l("Choose what you would like us to do."), "request_type")


def _subject_fields(email, phone, name, details, request_type, dealer):
    email = normalise_email(email) if email else None
    phone = normalise_phone(phone, dealer.country if dealer else None) if phone else None
    name = (name or "").strip() or None
    details = (details or "").strip() or None
    if not email:
        raise DomainError(_l("Enter the e-mail address we can reach you at."), "email")
    if name and len(name) > 200:
        raise DomainError(_l("A name has at most 200 characters."), "name")
    if details and len(details) > 5000:
        raise DomainError(_l("Please keep the description under 5000 characters."), "details")
    if request_type is RequestType.rectification and not details:
        raise DomainError(_l("Tell us which details are wrong and what they should be."), "details")
    return email, phone, name, details


def _active_dealer(session: Session, dealer_id: int | None) -> Dealer | None:
    if dealer_id is None:
        return None
    dealer = session.get(Dealer, dealer_id)
    if dealer is None or dealer.status is not DealerStatus.active:
        raise DomainError(_l("Choose a dealership from the list."), "dealer")
    return dealer


def _pending_unverified(session, request_type, email, phone, dealer_id, now) -> PrivacyRequest | None:
    query = select(PrivacyRequest).where(
        PrivacyRequest.status == RequestStatus.awaiting_verification,
        PrivacyRequest.request_type == request_type,
        PrivacyRequest.subject_email == email,
        PrivacyRequest.verification_expires_at > now,
        PrivacyRequest.dealer_id.is_(None) if dealer_id is None else PrivacyRequest.dealer_id == dealer_id,
    )
    return session.scalars(query.order_by(PrivacyRequest.id.desc())).first()


def _flag_duplicate(session: Session, request: PrivacyRequest, now: datetime) -> None:
    """A probable duplicate is flagged for the officer, never refused automatically."""
    with session.no_autoflush:
        query = select(PrivacyRequest).where(
            PrivacyRequest.subject_key == request.subject_key,
            PrivacyRequest.request_type == request.request_type,
            PrivacyRequest.status.in_(OPEN_STATUSES + (RequestStatus.completed,)),
            PrivacyRequest.received_at > now - timedelta(days=periods.DUPLICATE_REQUEST_DAYS),  # type: ignore[arg-type]  # untyped Column model
            PrivacyRequest.dealer_id.is_(None) if request.dealer_id is None else PrivacyRequest.dealer_id == request.dealer_id,
        )
        earlier = [r for r in session.scalars(query.order_by(PrivacyRequest.id)) if r is not request and r.id is not None]
    if earlier:
        request.possible_duplicate_of = earlier[-1]
        record_event(session, request, "possible_duplicate", at=now, of_request=earlier[-1].id)


def verify(session: Session, request: PrivacyRequest, now: datetime | None = None) -> bool:
    """The person confirmed by the e-mailed link. Returns False when it was already confirmed."""
    now = now or utcnow()
    if request.status is not RequestStatus.awaiting_verification:
        return False
    if request.verification_expires_at is None or request.verification_expires_at <= now:
        raise DomainError(_l("This confirmation link has expired. Please send your request again."))
    request.status = RequestStatus.verified
    request.verified_at = now
    record_event(session, request, "verified", actor_label="requester", at=now, method="e-mail link")
    return True


def _require_open(request: PrivacyRequest) -> None:
    if not request.is_open:
        raise DomainError(_l("This request is already closed."))


def extend(
    session: Session, request: PrivacyRequest, new_due_at: datetime, reason: str, actor_id: int | None = None, now: datetime | None = None
) -> None:
    """The single extension: before the due date, at most two months more, with a reason."""
    now = now or utcnow()
    reason = (reason or "").strip()
    _require_open(request)
    if request.extended_at is not None:
        raise DomainError(_l("The deadline can be extended only once."), "due_at")
    if now >= request.due_at:
        raise DomainError(_l("The deadline can only be extended before it has passed."), "due_at")
    if not reason:
        raise DomainError(_l("Give the reason for the extension: the person will be told."), "reason")
    if new_due_at <= request.due_at:
        raise DomainError(_l("The new deadline must be later than the current one."), "due_at")
    if new_due_at > request.due_at + MAX_EXTENSION:
        raise DomainError(_l("The deadline can be extended by at most two months."), "due_at")
    request.original_due_at = request.due_at
    request.due_at = new_due_at
    request.extended_at = now
    request.extension_reason = reason
    record_event(session, request, "extended", actor_id=actor_id, at=now, new_due=new_due_at.isoformat())
    notices.queue_notice(session, "extended", request=request)


def refuse(session: Session, request: PrivacyRequest, reason: str, actor_id: int | None = None, now: datetime | None = None) -> None:
    """Refuse with a reason; the notice states the right to complain (GDPR Art. 12(4))."""
    now = now or utcnow()
    reason = (reason or "").strip()
    _require_open(request)
    if request.status is RequestStatus.in_progress:
        raise DomainError(_l("A request that is being carried out cannot be refused."))
    if not reason:
        raise DomainError(_l("Give the reason for the refusal: the person will be told."), "reason")
    request.status = RequestStatus.refused  # type: ignore[assignment]  # untyped Column model
    request.refused_at = now  # type: ignore[assignment]  # untyped Column model
    request.refusal_reason = reason  # type: ignore[assignment]  # untyped Column model
    record_event(session, request, "refused", actor_id=actor_id, at=now)
    notices.queue_notice(session, "refused", request=request, authority=current_app.config["SUPERVISORY_AUTHORITY"])


def cancel(session: Session, request: PrivacyRequest, actor_id: int | None = None, now: datetime | None = None) -> None:
    now = now or utcnow()
    _require_open(request)
    if request.status is RequestStatus.in_progress:
        raise DomainError(_l("A request that is being carried out cannot be cancelled."))
    request.status = RequestStatus.cancelled  # type: ignore[assignment]  # untyped Column model
    request.cancelled_at = now  # type: ignore[assignment]  # untyped Column model
    record_event(session, request, "cancelled", actor_id=actor_id, at=now)


def start(session: Session, request: PrivacyRequest, phase: str, actor_id: int | None = None, now: datetime | None = None) -> None:
    """Verified → in progress (idempotent: a resumed job calls it again)."""
    now = now or utcnow()
    if request.status is RequestStatus.in_progress:
        request.phase = phase
        return
    if request.status is not RequestStatus.verified:
        raise DomainError(_l("Only a verified request can be processed."))
    request.status = RequestStatus.in_progress
    request.started_at = now
    request.phase = phase
    request.failure = None
    record_event(session, request, "started", actor_id=actor_id, at=now, phase=phase)


def complete(session: Session, request: PrivacyRequest, now: datetime | None = None, **data) -> None:
    now = now or utcnow()
    request.status = RequestStatus.completed  # type: ignore[assignment]  # untyped Column model
    request.completed_at = now  # type: ignore[assignment]  # untyped Column model
    request.phase = "done"  # type: ignore[assignment]  # untyped Column model
    record_event(session, request, "completed", at=now, **data)


def due_state(request: PrivacyRequest, now: datetime | None = None) -> str:
    """``overdue``, ``due_soon`` (≤ 5 days) or ``on_time`` for an open request; ``closed``."""
    now = now or utcnow()
    if not request.is_open:
        return "closed"
    if request.due_at <= now:
        return "overdue"
    if request.due_at - now <= timedelta(days=periods.REQUEST_DUE_SOON_DAYS):
        return "due_soon"
    return "on_time"
