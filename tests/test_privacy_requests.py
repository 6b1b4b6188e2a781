"""The request state machine: deadlines, the single extension, refusals, duplicates,
verification — with a frozen clock, through the domain services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import DomainError
from app.models import (
    MailMessage,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.privacy.registry import entries, undeclared_personal_columns
from app.privacy.requests import intake
from tests.factories import new_email

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def officer_request(db, now=T0, **kw) -> PrivacyRequest:
    fields = {"request_type": RequestType.access, "email": new_email(), "channel": RequestChannel.officer, "now": now}
    fields.update(kw)
    request = intake.file_request(db.session, **fields)
    db.session.flush()
    return request


def public_request(db, now=T0, **kw) -> PrivacyRequest:
    return officer_request(db, now=now, channel=RequestChannel.public_form, **kw)


def test_every_table_with_personal_looking_columns_is_declared(app):
    with app.app_context():
        assert undeclared_personal_columns() == {}
        tables = {entry.table for entry in entries()}
    assert {"client", "inquiry", "sale", "ab_user", "privacy_request", "mail_message", "disclosure"} <= tables


def test_a_new_personal_column_without_declaration_is_caught(app):
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from app.privacy import registry

    class Probe:
        __tablename__ = "probe"
        __table__ = Table(
            "probe", MetaData(), Column("id", Integer, primary_key=True), Column("customer_email", String), Column("colour", String)
        )

    assert registry.personal_looking_columns(Probe) == ["customer_email"]


def test_declared_columns_exist_on_their_tables(app):
    with app.app_context():
        for entry in entries():
            columns = set(entry.model.__table__.columns.keys())
            declaration = entry.declaration
            assert set(declaration.personal) <= columns, entry.table
            for name in (declaration.email_column, declaration.phone_column, declaration.client_column, declaration.request_column):
                assert name is None or name in columns, (entry.table, name)
            for name in declaration.export_columns:
                assert name.split(".")[0] in columns or hasattr(entry.model, name.split(".")[0]), (entry.table, name)


def test_due_date_is_thirty_days_after_receipt(db):
    request = officer_request(db)
    assert request.received_at == T0
    assert request.due_at == T0 + timedelta(days=30)
    assert request.status is RequestStatus.verified
    assert [e.kind for e in request.events] == ["received", "verified"]


def test_one_extension_of_at_most_two_months_before_the_due_date(db):
    request = officer_request(db)
    due = request.due_at
    with pytest.raises(DomainError, match="reason"):
        intake.extend(db.session, request, due + timedelta(days=30), "  ", now=T0 + timedelta(days=1))
    with pytest.raises(DomainError, match="two months"):
        intake.extend(db.session, request, due + timedelta(days=63), "Complex", now=T0 + timedelta(days=1))
    with pytest.raises(DomainError, match="later"):
        intake.extend(db.session, request, due - timedelta(days=1), "Complex", now=T0 + timedelta(days=1))
    assert request.extended_at is None and request.due_at == due

    intake.extend(db.session, request, due + timedelta(days=61), "Many systems to search", now=T0 + timedelta(days=29))
    assert request.due_at == due + timedelta(days=61)
    assert request.original_due_at == due
    with pytest.raises(DomainError, match="only once"):
        intake.extend(db.session, request, request.due_at + timedelta(days=1), "Again", now=T0 + timedelta(days=29))
    db.session.flush()
    notice = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id, MailMessage.kind == "extended")).one()
    assert notice.to_address == request.subject_email


def test_no_extension_once_the_due_date_has_passed(db):
    request = officer_request(db)
    with pytest.raises(DomainError, match="before"):
        intake.extend(db.session, request, request.due_at + timedelta(days=10), "Late", now=request.due_at)
    assert request.extended_at is None


def test_refusal_needs_a_reason_and_tells_the_right_to_complain(db):
    request = officer_request(db)
    with pytest.raises(DomainError, match="reason"):
        intake.refuse(db.session, request, "", now=T0)
    assert request.status is RequestStatus.verified
    intake.refuse(db.session, request, "Manifestly unfounded: repetitive", now=T0 + timedelta(days=2))
    assert request.status is RequestStatus.refused
    assert request.refusal_reason == "Manifestly unfounded: repetitive"
    db.session.flush()
    notice = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id, MailMessage.kind == "refused")).one()
    assert "Manifestly unfounded" in notice.body_text
    with pytest.raises(DomainError, match="closed"):
        intake.refuse(db.session, request, "again", now=T0)
    with pytest.raises(DomainError, match="closed"):
        intake.extend(db.session, request, request.due_at + timedelta(days=5), "x", now=T0)


def test_due_state_badges(db):
    request = officer_request(db)
    assert intake.due_state(request, T0) == "on_time"
    assert intake.due_state(request, request.due_at - timedelta(days=5)) == "due_soon"
    assert intake.due_state(request, request.due_at) == "overdue"
    intake.cancel(db.session, request, now=T0)
    assert intake.due_state(request, request.due_at) == "closed"


def test_probable_duplicates_are_flagged_never_refused(db):
    address = new_email()
    first = officer_request(db, email=address)
    second = officer_request(db, email=address.upper(), now=T0 + timedelta(days=3))
    assert second.possible_duplicate_of is first
    assert second.status is RequestStatus.verified
    other_type = officer_request(db, email=address, request_type=RequestType.erasure, now=T0 + timedelta(days=3))
    assert other_type.possible_duplicate_of is None


def test_public_requests_wait_for_the_emailed_link(db):
    request = public_request(db)
    assert request.status is RequestStatus.awaiting_verification
    assert request.verification_expires_at == T0 + timedelta(hours=48)
    mail = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id)).one()
    assert mail.kind == "verification" and "/privacy/request/verify/" in mail.body_text

    again = public_request(db, email=request.subject_email, now=T0 + timedelta(hours=1))
    assert again is request  # filing again before confirming resumes the same request
    with pytest.raises(DomainError, match="expired"):
        intake.verify(db.session, request, now=T0 + timedelta(hours=50))
    assert intake.verify(db.session, request, now=T0 + timedelta(hours=2)) is True
    assert request.status is RequestStatus.verified
    assert intake.verify(db.session, request, now=T0 + timedelta(hours=3)) is False


def test_rejected_input_changes_nothing(db):
    before = db.session.scalar(select(func.count(PrivacyRequest.id)))
    with pytest.raises(DomainError) as error:
        intake.file_request(db.session, request_type="rectification", email=new_email(), channel=RequestChannel.officer)
    assert error.value.field == "details"
    with pytest.raises(DomainError):
        intake.file_request(db.session, request_type="teleport", email=new_email())
    with pytest.raises(DomainError):
        intake.file_request(db.session, request_type="access", email="not-an-email")
    with pytest.raises(DomainError):
        intake.file_request(db.session, request_type="access", email=new_email(), dealer_id=987654)
    assert db.session.scalar(select(func.count(PrivacyRequest.id))) == before


def test_only_verified_requests_are_processed(db):
    from app.privacy.requests.processing import request_processing

    pending = public_request(db)
    with pytest.raises(DomainError):
        request_processing(db.session, pending, actor_id=None)
    erasure = officer_request(db, request_type=RequestType.erasure)
    with pytest.raises(DomainError, match="preview"):
        request_processing(db.session, erasure, actor_id=None)
    access = officer_request(db)
    request_processing(db.session, access, actor_id=None)
    assert access.status is RequestStatus.in_progress and access.phase == "queued"
