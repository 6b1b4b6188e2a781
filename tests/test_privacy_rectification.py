"""Rectification (GDPR Art. 16): corrections are checked, shown old vs new, applied all
at once by the real queue, logged, and told to the recipients (Art. 19)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain import DomainError
from app.models import (
    Client,
    Inquiry,
    PrivacyRequest,
    RectificationChange,
    RequestStatus,
    RequestType,
)
from app.privacy.requests import processing, rectification
from app.queueing import enqueue_unique, request_job_id
from tests.factories import disclose, make_customer, new_email, uid
from tests.privacy_support import TEST_QUEUE, acting_user, events, file_and_process, messages, run_request_jobs
from tests.queue_support import run_queue

A, B = "north-motors", "south-cars"


def file_rectification(db, person, dealer_id) -> PrivacyRequest:
    request_id = file_and_process(db, RequestType.rectification, person.email, dealer_id, details="My e-mail and surname are wrong.")
    db.session.commit()
    return db.session.get(PrivacyRequest, request_id)


def process(db, request: PrivacyRequest, actor_id: int) -> None:
    processing.request_processing(db.session, request, actor_id=actor_id)
    db.session.commit()
    enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(request.id), request.id, queue_name=TEST_QUEUE)


def snapshot(db, person) -> dict:
    db.session.expire_all()
    client, inquiry = db.session.get(Client, person.client.id), db.session.get(Inquiry, person.inquiry.id)
    return {"client": (client.email, client.last_name, client.city), "inquiry": (inquiry.email, inquiry.phone)}


@pytest.fixture
def case(app, db, dealer_ids):
    p = make_customer(db, dealer_ids[A])
    q = make_customer(db, dealer_ids[A])  # another person at the same dealer
    request = file_rectification(db, p, dealer_ids[A])
    return p, q, request, acting_user(db, dealer_ids[A])


@pytest.mark.parametrize(
    "change,field",
    [
        ({"table": "client", "column": "email", "new": "not-an-address"}, "email"),
        ({"table": "client", "column": "phone", "new": "12"}, "phone"),
        ({"table": "client", "column": "country", "new": "Germany"}, "country"),
        ({"table": "client", "column": "last_name", "new": "   "}, "last_name"),
        ({"table": "client", "column": "city", "new": "x" * 101}, "city"),
        ({"table": "client", "column": "notes", "new": "anything"}, "column"),
        ({"table": "sale", "column": "status", "new": "voided"}, "table"),
        ({"table": "client", "column": "email", "new": "person@example.org", "other_person": True}, "pk"),
    ],
)
def test_a_bad_correction_is_refused_and_nothing_changes(db, case, change, field):
    p, q, request, actor = case
    before = snapshot(db, p)
    pk = q.client.id if change.pop("other_person", False) else p.client.id
    good = {"table": "client", "pk": p.client.id, "column": "city", "new": "Potsdam"}
    with pytest.raises(DomainError) as refused:
        rectification.propose(db.session, request, [good, {**change, "pk": pk}], actor_id=actor)
    assert refused.value.field == field
    db.session.commit()
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.rectification_proposal is None
    assert events(db, request.id, "rectification_proposed") == []
    assert snapshot(db, p) == before


def test_another_dealers_row_of_the_same_email_cannot_be_corrected(db, dealer_ids, case):
    p, _, request, actor = case
    elsewhere = make_customer(db, dealer_ids[B], email=p.email)
    with pytest.raises(DomainError, match="does not belong"):
        rectification.propose(db.session, request, [{"table": "client", "pk": elsewhere.client.id, "column": "city", "new": "Bonn"}], actor)
    db.session.rollback()


def test_processing_needs_a_proposal(db, case):
    _, _, request, actor = case
    with pytest.raises(DomainError, match="corrected values"):
        processing.request_processing(db.session, request, actor_id=actor)
    db.session.rollback()


def _changes(p, new_mail):
    return [
        {"table": "client", "pk": p.client.id, "column": "email", "new": new_mail.upper()},
        {"table": "client", "pk": p.client.id, "column": "last_name", "new": "Corrected"},
        {"table": "inquiry", "pk": p.inquiry.id, "column": "phone", "new": "+49 (30) 1234-5678"},
    ]


def test_a_valid_proposal_shows_old_and_new_values(db, case):
    p, _, request, actor = case
    new_mail = new_email()
    before = snapshot(db, p)
    proposal = rectification.propose(db.session, request, _changes(p, new_mail), actor_id=actor)
    db.session.commit()
    assert [c["new"] for c in proposal] == [new_mail, "Corrected", "+493012345678"]  # stored as the model stores it
    rows = rectification.diff(db.session.get(PrivacyRequest, request.id), db.session)
    assert [(r["column"], r["old"], r["current"], r["new"], r["stale"]) for r in rows] == [
        ("email", p.email, p.email, new_mail, False),
        ("last_name", p.client.last_name, p.client.last_name, "Corrected", False),
        ("phone", p.inquiry.phone, p.inquiry.phone, "+493012345678", False),
    ]
    [event] = events(db, request.id, "rectification_proposed")
    assert event.actor_id == actor and event.data["changes"] == 3
    assert new_mail not in str(event.data)  # the log holds no personal data
    assert snapshot(db, p) == before  # proposing changes nothing yet


def test_rectification_applies_every_change_at_once_logs_it_and_tells_recipients(app, db, case):
    p, q, request, actor = case
    old_email, old_phone = p.email, p.inquiry.phone
    bank = disclose(db, p, f"finance-{uid()}@bank.example")
    disclose(db, q, f"other-{uid()}@bank.example")
    new_mail = new_email()
    rectification.propose(db.session, request, _changes(p, new_mail), actor_id=actor)
    db.session.commit()

    # Someone changes one of the rows after the proposal: nothing may be applied.
    db.session.get(Client, p.client.id).last_name = "Meanwhile"
    db.session.commit()
    before = snapshot(db, p)
    process(db, db.session.get(PrivacyRequest, request.id), actor)
    run_request_jobs(app)
    db.session.expire_all()
    assert snapshot(db, p) == before
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.verified and request.failure
    [failed] = events(db, request.id, "rectification_failed")
    assert failed.data["stale"] == [{"table": "client", "pk": p.client.id, "column": "last_name", "missing": False}]
    assert db.session.scalars(select(RectificationChange).where(RectificationChange.request_id == request.id)).all() == []
    assert messages(db, request.id, "recipient_notice") == []

    # A fresh proposal goes through, all in one.
    rectification.propose(db.session, request, _changes(p, new_mail), actor_id=actor)
    db.session.commit()
    process(db, request, actor)
    run_request_jobs(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed and request.failure is None
    client, inquiry = db.session.get(Client, p.client.id), db.session.get(Inquiry, p.inquiry.id)
    assert (client.email, client.last_name, inquiry.phone) == (new_mail, "Corrected", "+493012345678")
    changes = db.session.scalars(
        select(RectificationChange).where(RectificationChange.request_id == request.id).order_by(RectificationChange.id)
    ).all()
    assert [(c.table_name, c.row_pk, c.column_name, c.old_value, c.new_value) for c in changes] == [
        ("client", str(p.client.id), "email", old_email, new_mail),
        ("client", str(p.client.id), "last_name", "Meanwhile", "Corrected"),
        ("inquiry", str(p.inquiry.id), "phone", old_phone, "+493012345678"),
    ]
    assert {c.changed_by_id for c in changes} == {actor}
    [notice] = messages(db, request.id, "recipient_notice")
    assert notice.to_address == bank.recipient_email  # only P's recipients, not Q's
    [notified] = events(db, request.id, "recipients_notified")
    assert notified.data == {"action": "rectification", "notified": 1, "to_notify_by_other_means": 0}
    assert len(messages(db, request.id, "completed")) == 1
    assert all(row["applied"] for row in rectification.diff(request, db.session))

    run_queue(app)  # the notices go out
    db.session.expire_all()
    assert messages(db, request.id, "recipient_notice")[0].sent_at is not None

    # Running the job again changes nothing more.
    enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(request.id), request.id, queue_name=TEST_QUEUE)
    run_request_jobs(app)
    db.session.expire_all()
    assert len(db.session.scalars(select(RectificationChange).where(RectificationChange.request_id == request.id)).all()) == 3


def test_a_vanished_row_stops_the_rectification(app, db, case):
    p, _, request, actor = case
    rectification.propose(
        db.session,
        request,
        [
            {"table": "inquiry", "pk": p.inquiry.id, "column": "name", "new": "Pat Corrected"},
            {"table": "client", "pk": p.client.id, "column": "city", "new": "Potsdam"},
        ],
        actor_id=actor,
    )
    db.session.commit()
    db.session.delete(db.session.get(Inquiry, p.inquiry.id))
    db.session.commit()
    process(db, db.session.get(PrivacyRequest, request.id), actor)
    run_request_jobs(app)
    db.session.expire_all()
    assert db.session.get(Client, p.client.id).city is None
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.verified and request.failure
    [failed] = events(db, request.id, "rectification_failed")
    assert failed.data["stale"][0]["missing"] is True
