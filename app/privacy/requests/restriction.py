"""Restriction of processing (GDPR Art. 18) and objection to direct marketing (Art. 21).

A restriction stamps ``restricted_at`` on the subject's rows in every registered table
that can be restricted (clients, inquiries, sales, the usage log): from then on the views
and APIs hide them from everyone but the privacy officer and nobody edits them
(``app.tenancy``); a user account's usage log stops recording. Every other category is
kept, and the event log and the completion mail say which and why
(``restriction_outcome``). Lifting tells the person first (Art. 18(3)): ``request_lift``
queues the notice, and the mailer calls ``complete_lift`` once that notice has been sent.

An objection clears marketing consent at once and stamps ``marketing_objected_at``; the
client rules then refuse turning consent back on
(``app.domain.clients.check_marketing_consent``). For a user account it also stops the
usage log (legitimate interests, Art. 21(1)) and restricts the page views already recorded.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain import DomainError
from app.extensions import db
from app.mail import notices
from app.models import (
    Client,
    DealerUser,
    MailMessage,
    PageView,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestStatus,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.consent.withdrawal import record_objection
from app.privacy.registry import Entry, entries, entry_for
from app.privacy.requests import intake, progress
from app.privacy.requests.recipients import notify_recipients
from app.privacy.requests.restriction_outcome import (
    lift_usage_restriction,
    restricted_users,
    restriction_outcome,
    stop_usage_log,
    usage_still_objected,
    users_of,
)
from app.privacy.requests.subjects import Subject, client_ids, rows_of

LIFT_NOTICE = "restriction_lifting"


def restrictable_entries() -> list[Entry]:
    return [e for e in entries() if hasattr(e.model, "restricted_at")]


def _job_request(request_id: int, request_type: RequestType) -> PrivacyRequest | None:
    request = db.session.get(PrivacyRequest, request_id)
    if request is None or request.status is not RequestStatus.in_progress or request.request_type is not request_type:
        return None
    return request


def run_restriction(request_id: int) -> str:
    """The job body: restrict every row of the subject, tell the recipients, complete."""
    session = db.session
    request = _job_request(request_id, RequestType.restriction)
    if request is None:
        return "nothing to do"
    try:
        subject = Subject.of(request)
        clients = client_ids(session, subject)
        now = utcnow()
        found, restricted = {}, {}
        tables = restrictable_entries()
        for done, entry in enumerate(tables, start=1):
            rows = session.scalars(rows_of(entry, subject, session, clients=clients)).all()
            fresh = [row for row in rows if row.restricted_at is None]
            for row in fresh:
                row.restricted_at = now
            found[entry.table], restricted[entry.table] = len(rows), len(fresh)
            progress.report(request, "restricting", done, len(tables))
        users = users_of(session, subject)
        stop_usage_log(session, users, now, "usage_restricted_at")
        outcome = restriction_outcome(session, subject, found, users)
        intake.record_event(
            session,
            request,
            "restricted",
            at=now,
            rows=_nonzero(found),
            newly_restricted=_nonzero(restricted),
            usage_log_stopped=len(users),
        )
        intake.record_event(session, request, "restriction_outcome", at=now, **outcome.as_data())
        notify_recipients(session, request, "restriction", clients)
        intake.complete(session, request, now=now, restricted=sum(found.values()), nothing_restricted=outcome.nothing_restricted)
        notices.queue_notice(session, "completed", request=request, outcome=outcome)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return "restricted"


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {table: count for table, count in counts.items() if count}


def _liftable_rows(session: Session, request: PrivacyRequest, entry: Entry):
    """The subject's restricted rows in one table, except those an erasure keeps restricted
    (business records re-pointed to the erasure placeholder client) and the page views of
    a user who objected to the usage log."""
    subject = Subject.of(request)
    query = rows_of(entry, subject, session).where(entry.model.restricted_at.is_not(None))
    if entry.model is PageView:
        query = query.where(PageView.user_id.not_in(usage_still_objected(session, subject)))
    column_name = entry.declaration.client_column
    if column_name:
        column = getattr(entry.model, column_name)
        placeholders: Select[int] = select(Client.id).where(Client.is_erasure_placeholder.is_(True))
        query = query.where(or_(column.is_(None), column.not_in(placeholders)))
    return session.scalars(query).all()


def restricted_rows(session: Session, request: PrivacyRequest) -> dict[str, int]:
    """How many of the subject's rows a lift would release, per table (``ab_user``: the
    accounts whose usage log would record again)."""
    rows = {e.table: len(_liftable_rows(session, request, e)) for e in restrictable_entries()}
    rows[DealerUser.__tablename__] = restricted_users(session, Subject.of(request))
    return rows


def request_lift(session: Session, request: PrivacyRequest, actor_id: int | None) -> MailMessage:
    """Ask to lift a restriction: the person is told first (Art. 18(3)); the rows stay
    restricted until that notice has been sent. The caller commits."""
    if request.request_type is not RequestType.restriction or request.status is not RequestStatus.completed:
        raise DomainError(_l("Only a restriction that has been carried out can be lifted."))
    if request.restriction_lift_requested_at is not None:
        raise DomainError(_l("Lifting this restriction has already been asked for; the person is being told first."))
    if not any(restricted_rows(session, request).values()):
        raise DomainError(_l("Nothing of this person is restricted any more."))
    message = notices.queue_notice(session, LIFT_NOTICE, request=request)
    request.restriction_lift_requested_at = utcnow()
    intake.record_event(session, request, "restriction_lift_requested", actor_id=actor_id)
    return message


def _lifted_already(session: Session, request: PrivacyRequest) -> bool:
    return (
        session.scalar(
            select(PrivacyRequestEvent.id).where(
                PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == "restriction_lifted"
            )
        )
        is not None
    )


def _lift_notice_sent(session: Session, request: PrivacyRequest) -> bool:
    return (
        session.scalar(
            select(MailMessage.id).where(
                MailMessage.request_id == request.id, MailMessage.kind == LIFT_NOTICE, MailMessage.sent_at.is_not(None)
            )
        )
        is not None
    )


def complete_lift(session: Session, request_id: int) -> int:
    """Lift the restriction once the person has been told; returns how many rows were
    released. Called by the mailer after the lifting notice was sent; the caller commits.
    Does nothing before the notice is sent, or a second time."""
    request = session.get(PrivacyRequest, request_id)
    if request is None or request.restriction_lift_requested_at is None:
        return 0
    if not _lift_notice_sent(session, request) or _lifted_already(session, request):
        return 0
    released = {}
    for entry in restrictable_entries():
        rows = _liftable_rows(session, request, entry)
        for row in rows:
            row.restricted_at = None
        released[entry.table] = len(rows)
    released[DealerUser.__tablename__] = lift_usage_restriction(session, Subject.of(request))
    intake.record_event(session, request, "restriction_lifted", rows=_nonzero(released))
    return sum(released.values())


def run_objection(request_id: int) -> str:
    """The job body of an objection to direct marketing: consent off now, objection recorded."""
    session = db.session
    request = _job_request(request_id, RequestType.objection)
    if request is None:
        return "nothing to do"
    try:
        now = utcnow()
        client_entry = entry_for(Client)
        if client_entry is None:
            raise LookupError("the client table has no privacy declaration")
        subject = Subject.of(request)
        clients = session.scalars(rows_of(client_entry, subject, session)).all()
        withdrawn = record_objection(session, clients, source=f"privacy_request:{request.reference}", now=now)
        progress.report(request, "objection", len(clients), len(clients))
        intake.record_event(session, request, "marketing_objection_recorded", at=now, clients=len(clients), consents_withdrawn=withdrawn)
        users = users_of(session, subject)
        if users:
            views = stop_usage_log(session, users, now, "usage_objected_at")
            intake.record_event(session, request, "usage_objection_recorded", at=now, users=len(users), page_views_restricted=views)
        nothing = not clients and not users
        intake.complete(session, request, now=now, clients=len(clients), users=len(users), nothing_applied=nothing)
        notices.queue_notice(session, "completed", request=request, objection={"marketing": len(clients), "usage": len(users)})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return "objection recorded"
