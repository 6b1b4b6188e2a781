"""The data export tool: a dealer's whole account as a package, asked for by one of its
admins at any time, or made for its admins when the account is terminated; the signed
link to it is mailed when it is ready.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail.audience import user_language
from app.models import OPEN_STATUSES, Dealer, DealerStatus, PrivacyRequest, RequestChannel, RequestType
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.lifecycle.steps import dealer_of
from app.privacy.requests import intake


def export_in_progress(session: Session, dealer_id: int) -> PrivacyRequest | None:
    query = select(PrivacyRequest).where(
        PrivacyRequest.dealer_id == dealer_id,
        PrivacyRequest.request_type == RequestType.account_export,
        PrivacyRequest.status.in_(OPEN_STATUSES),
    )
    return session.scalars(query.order_by(PrivacyRequest.id.desc())).first()


def account_exports(session: Session, dealer_id: int, limit: int = 5) -> list[PrivacyRequest]:
    """The dealer's latest account exports, newest first."""
    query = select(PrivacyRequest).where(PrivacyRequest.dealer_id == dealer_id, PrivacyRequest.request_type == RequestType.account_export)
    return list(session.scalars(query.order_by(PrivacyRequest.id.desc()).limit(limit)))


def request_account_export(session: Session, dealer_id: int, actor_id: int, now: datetime | None = None) -> PrivacyRequest:
    """File the dealer's account export for the acting user, verified and started; its
    job is enqueued once the caller commits. Refused while another one is being made."""
    now = now or utcnow()
    dealer = dealer_of(session, dealer_id)
    if dealer.status is not DealerStatus.active:
        raise DomainError(_l("This dealer account is terminated."))
    actor = session.get(DealerUser, actor_id) if actor_id is not None else None
    if actor is None or not actor.email:
        raise DomainError(_l("Only a signed-in user with an e-mail address can ask for an account export."))
    in_progress = export_in_progress(session, dealer.id)
    if in_progress is not None:
        raise DomainError(_l("An export of this account is already being made (%(reference)s).", reference=in_progress.reference))
    return file_export(session, dealer, actor, actor_id, now)


def file_export(session: Session, dealer: Dealer, owner: DealerUser, actor_id: int | None, now: datetime) -> PrivacyRequest:
    """File the account export for ``owner``, verified and started; its job is enqueued once
    the caller commits."""
    from app.queueing import enqueue_request_after_commit

    request = intake.file_request(
        session,
        request_type=RequestType.account_export,
        email=owner.email,
        dealer_id=dealer.id,  # type: ignore[arg-type]  # untyped Column model
        channel=RequestChannel.dealer_admin,
        language=user_language(owner),
        actor_id=actor_id,
        now=now,
    )
    intake.start(session, request, phase="queued", actor_id=actor_id, now=now)
    session.flush()
    enqueue_request_after_commit(session, request.id)  # type: ignore[arg-type]  # untyped Column model
    return request
