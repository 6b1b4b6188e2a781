"""The erasure preview (GDPR Art. 17): what the erasure will do, for the operator to confirm.

Per table, counts of the rows it will delete, anonymise or keep (and until when), the
subject's other open requests, old export packages and recipients to tell. Counts, table
names and dates only: no personal data.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.models import OPEN_STATUSES, Disclosure, PrivacyRequest, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.registry import entries
from app.privacy.requests import intake
from app.privacy.requests.erasure_rows import ACTIONS, BATCH_READ, KEPT, action_for, keep_until
from app.privacy.requests.subjects import Subject, client_ids, request_ids, rows_of


def preview(session: Session, request: PrivacyRequest, actor_id: int | None = None, now: datetime | None = None) -> dict:
    """Count, per table, the rows the erasure will delete, anonymise or keep; store it on
    the request for the operator to confirm. Counts, table names and dates only."""
    if request.request_type is not RequestType.erasure:
        raise DomainError(_l("Only an erasure request has an erasure preview."))
    if request.status is not RequestStatus.verified:
        raise DomainError(_l("The erasure preview is made for a verified request that has not started yet."))
    now = now or utcnow()
    subject = Subject.of(request)
    clients, subject_requests = client_ids(session, subject), request_ids(session, subject)
    tables, totals = [], Counter()
    for entry in entries():
        counts, latest = Counter(), None
        query = rows_of(entry, subject, session, clients=clients, requests=subject_requests)
        for row in session.scalars(query.execution_options(yield_per=BATCH_READ)):
            action = action_for(entry, row, request, now.date(), final=True)
            if action is None:
                continue
            counts[action] += 1
            until = keep_until(entry, row) if action == KEPT else None
            if until is not None and (latest is None or until > latest):
                latest = until
        if not counts:
            continue
        item = {"table": entry.table, "category": entry.category, **{action: counts[action] for action in ACTIONS}}
        if counts[KEPT]:
            item["keep_until"] = latest.isoformat() if latest else None
            item["legal_basis"] = str(entry.declaration.legal_basis)
            item["keep_reason"] = str(entry.declaration.keep_reason) if entry.declaration.keep_reason else None
        tables.append(item)
        totals.update(counts)
    result = {
        "generated_at": now.isoformat(),
        "dealer_id": request.dealer_id,
        "tables": tables,
        "totals": {action: totals[action] for action in ACTIONS},
        "open_requests": _other_open_requests(session, request, subject_requests),
        "export_files": _export_count(session, subject_requests),
        "recipients": _recipient_count(session, request, clients),
    }
    request.erasure_preview = result
    intake.record_event(
        session, request, "erasure_previewed", actor_id=actor_id, at=now, open_requests=result["open_requests"], **result["totals"]
    )
    return result


def _other_open_requests(session: Session, request: PrivacyRequest, subject_requests: list[int]) -> int:
    others = [i for i in subject_requests if i != request.id]
    if not others:
        return 0
    query = select(func.count()).where(PrivacyRequest.id.in_(others), PrivacyRequest.status.in_(OPEN_STATUSES))
    return session.scalar(query) or 0


def _export_count(session: Session, subject_requests: list[int]) -> int:
    if not subject_requests:
        return 0
    query = select(func.count()).where(PrivacyRequest.id.in_(subject_requests), PrivacyRequest.export_path.is_not(None))
    return session.scalar(query) or 0


def _recipient_count(session: Session, request: PrivacyRequest, clients: list[int]) -> int:
    if not clients:
        return 0
    query = select(func.count(func.distinct(Disclosure.recipient_email))).where(
        Disclosure.client_id.in_(clients), Disclosure.recipient_email.is_not(None)
    )
    if request.dealer_id is not None:
        query = query.where(Disclosure.dealer_id == request.dealer_id)
    return session.scalar(query) or 0
