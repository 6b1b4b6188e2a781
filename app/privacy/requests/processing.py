"""Carrying out a verified request: asking for it (web, API) and doing it (the job).

Asking marks the request in progress and records who asked, in the caller's transaction;
the caller commits, then enqueues. The job dispatches on the request type. The
reconciler re-enqueues requests in progress whose job was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.extensions import db
from app.models import PrivacyRequest, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.requests import intake

log = logging.getLogger(__name__)


def request_processing(session: Session, request: PrivacyRequest, actor_id: int | None, confirm_erasure: bool = False) -> None:
    """Ask for the request to be carried out. An erasure needs its preview confirmed."""
    if request.status is RequestStatus.in_progress:
        return  # already asked; enqueueing again is harmless
    if request.status is not RequestStatus.verified:
        raise DomainError(_l("Only a verified request can be processed."))
    if request.request_type is RequestType.erasure:
        if request.erasure_preview is None:
            raise DomainError(_l("Look at the erasure preview before you confirm it."))
        if not confirm_erasure:
            raise DomainError(_l("Confirm the erasure preview to start the erasure."))
        request.erasure_confirmed_at = utcnow()
        request.erasure_confirmed_by_id = actor_id
    if request.request_type is RequestType.rectification and not request.rectification_proposal:
        raise DomainError(_l("Enter the corrected values before you process a rectification."))
    intake.start(session, request, phase="queued", actor_id=actor_id)


def process(request_id: int) -> str:
    """The job body: dispatch on the type; a request not in progress is left alone."""
    request = db.session.get(PrivacyRequest, request_id)
    if request is None or request.status is not RequestStatus.in_progress:
        return "nothing to do"
    handler = _handlers()[request.request_type]
    return handler(request_id)


def _handlers():
    from app.privacy.requests import erasure, export, rectification, restriction

    return {
        RequestType.access: export.run_export,
        RequestType.portability: export.run_export,
        RequestType.account_export: export.run_export,
        RequestType.erasure: erasure.run_erasure,
        RequestType.restriction: restriction.run_restriction,
        RequestType.objection: restriction.run_objection,
        RequestType.rectification: rectification.run_rectification,
    }


def reconcile(dry_run: bool = False, request_ids: Collection[int] | None = None) -> int:
    """Re-enqueue every request in progress that has no live job; returns how many
    (``dry_run``: how many it would). ``request_ids`` looks at these requests only."""
    from app.privacy.requests.lookalikes import REVIEW
    from app.queueing import enqueue_request, has_live_job, request_job_id

    # An erasure waiting for the officer's decisions is not lost: their last one queues it.
    query: Select = select(PrivacyRequest.id).where(
        PrivacyRequest.status == RequestStatus.in_progress, or_(PrivacyRequest.phase.is_(None), PrivacyRequest.phase != REVIEW)
    )
    if request_ids is not None:
        query = query.where(PrivacyRequest.id.in_(list(request_ids)))
    ids = db.session.scalars(query).all()
    db.session.rollback()
    count = 0
    for request_id in ids:
        if not has_live_job(request_job_id(request_id)):
            if not dry_run:
                enqueue_request(request_id)
            count += 1
    if not dry_run:
        log.info("reconciler re-enqueued %d privacy request(s)", count)
    return count


def reconcile_jobs() -> dict[str, int]:
    """Every minute (cron) and at worker start: re-enqueue the privacy requests in progress
    and the outbox messages not yet sent whose job was lost, so that lost work resumes
    within two minutes. Cheap when nothing is lost: one query each and a Redis look-up per
    row found."""
    from app.mail.sending import LOST_AFTER, resend_unsent

    return {"privacy_requests": reconcile(), "mail": resend_unsent(older_than=LOST_AFTER)}
