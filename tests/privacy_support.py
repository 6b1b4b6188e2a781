"""Helpers shared by the privacy tests: users by name, filing and processing requests, their
events, messages and erasure ledger."""

from __future__ import annotations

from sqlalchemy import select

from app.models import ErasureLedgerEntry, MailMessage, PrivacyRequest, PrivacyRequestEvent, RequestChannel, RequestType
from app.privacy.requests import erasure_preview, intake, processing
from app.security import DealerUser
from tests.factories import Person
from tests.queue_support import run_queue

# The queue the restriction and rectification tests enqueue their requests on.
TEST_QUEUE = "privacy-restriction-tests"


def user_id(db, username: str) -> int:
    return db.session.scalar(select(DealerUser.id).where(DealerUser.username == username))


def reload(db, pk: int) -> PrivacyRequest:
    db.session.expire_all()
    return db.session.get(PrivacyRequest, pk)


def acting_user(db, dealer_id: int | None) -> int:
    """A dealer's admin runs requests about its clients; the privacy officer all others."""
    from app.models import Dealer

    return user_id(db, f"{db.session.get(Dealer, dealer_id).slug}-admin" if dealer_id else "privacy")


def file_and_process(db, request_type: RequestType, email: str, dealer_id: int | None, **kw) -> int:
    """File a request as the dealer's admin (for the dealer's client), ask for processing,
    commit, enqueue on the test queue."""
    from app.queueing import enqueue_unique, request_job_id

    actor = acting_user(db, dealer_id)
    request = intake.file_request(
        db.session,
        request_type=request_type,
        email=email,
        dealer_id=dealer_id,
        channel=RequestChannel.dealer_admin if dealer_id else RequestChannel.officer,
        actor_id=actor,
        **kw,
    )
    db.session.flush()
    if request_type is RequestType.rectification:
        return request.id  # the caller proposes the corrections first
    processing.request_processing(db.session, request, actor_id=actor)
    db.session.commit()
    enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(request.id), request.id, queue_name=TEST_QUEUE)
    return request.id


def run_request_jobs(app) -> None:
    run_queue(app, TEST_QUEUE)


def events(db, request_id: int, kind: str) -> list[PrivacyRequestEvent]:
    return db.session.scalars(
        select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == request_id, PrivacyRequestEvent.kind == kind)
    ).all()


def messages(db, request_id: int, kind: str) -> list[MailMessage]:
    return db.session.scalars(
        select(MailMessage).where(MailMessage.request_id == request_id, MailMessage.kind == kind).order_by(MailMessage.id)
    ).all()


def file_erasure(db, person: Person, dealer_id: int | None, actor: str | None = "north-motors-admin") -> PrivacyRequest:
    """Filed by the dealer admin for their client ("delete a contact"), or by the officer."""
    channel = RequestChannel.dealer_admin if dealer_id else RequestChannel.officer
    request = intake.file_request(
        db.session,
        request_type=RequestType.erasure,
        email=person.email,
        phone=person.phone,
        name=person.name,
        dealer_id=dealer_id,
        channel=channel,
        actor_id=user_id(db, actor) if actor else None,
    )
    db.session.flush()
    return request


def confirm(db, request: PrivacyRequest) -> dict:
    shown = erasure_preview.preview(db.session, request, actor_id=user_id(db, "privacy"))
    db.session.commit()
    processing.request_processing(db.session, request, user_id(db, "privacy"), confirm_erasure=True)
    db.session.commit()
    return shown


def ledger(db, request_id: int) -> list[tuple[str, str, str]]:
    query = select(ErasureLedgerEntry.table_name, ErasureLedgerEntry.row_pk, ErasureLedgerEntry.action)
    return [tuple(r) for r in db.session.execute(query.where(ErasureLedgerEntry.request_id == request_id).order_by(ErasureLedgerEntry.id))]


def file_access(db, email: str, dealer_id: int | None, language: str = "en", request_type=RequestType.access) -> PrivacyRequest:
    request = intake.file_request(
        db.session,
        request_type=request_type,
        email=email,
        dealer_id=dealer_id,
        channel=RequestChannel.officer,
        language=language,
        actor_id=user_id(db, "privacy"),
    )
    db.session.commit()
    return request
