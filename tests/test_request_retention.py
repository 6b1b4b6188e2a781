"""Retention for the privacy machinery itself: unconfirmed requests go after their link
expired plus a grace period; closed requests, their events and mails after their declared
years; the dry run reports exactly what the real run then does.

The sweeps look at the whole (shared) test database, so each test sweeps as of its own
clock long ago, before any other test's rows (test_retention's clocks start in 1995 and
go back six years per test), and back-dates its rows from it.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from app.domain import periods
from app.models import (
    Client,
    MailMessage,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestChannel,
    RequestType,
)
from app.privacy.lifecycle import retention
from app.privacy.requests import erasure_rows, intake
from tests.factories import make_customer
from tests.privacy_support import user_id

SWEEPS = ["unconfirmed_requests", "closed_requests"]
CLOCK = datetime(1900, 6, 1, 12, 0, tzinfo=UTC)
_clocks = itertools.count()
GRACE = timedelta(hours=periods.PRIVACY_VERIFICATION_TTL_HOURS) + timedelta(days=periods.UNCONFIRMED_REQUEST_GRACE_DAYS)


@pytest.fixture
def long_ago():
    """A clock before every other test's rows, six years apart per test."""
    return CLOCK - next(_clocks) * relativedelta(years=6)


@pytest.fixture
def made(db):
    """Requests a test filed; those a sweep left are removed afterwards."""
    ids: list[int] = []
    yield ids
    db.session.rollback()
    erasure_rows.delete_rows(db.session, PrivacyRequest, ids)
    db.session.commit()


def file(db, made, when: datetime, channel=RequestChannel.public_form, request_type=RequestType.access, email=None, dealer_id=None):
    request = intake.file_request(
        db.session,
        request_type=request_type,
        email=email or f"kept-{uuid.uuid4().hex[:8]}@example.org",
        name="Jonas Schmidt",
        dealer_id=dealer_id,
        channel=channel,
        actor_id=None if channel is RequestChannel.public_form else user_id(db, "privacy"),
        now=when,
    )
    db.session.commit()
    made.append(request.id)
    return request


def alive(db, ids: list[int]) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.id.in_(ids)).order_by(PrivacyRequest.id)))


def rows_of(db, model, ids: list[int]) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.request_id.in_(ids)))


def test_unconfirmed_requests_are_deleted_after_their_link_expires(db, made, long_ago):
    as_of = long_ago
    due = file(db, made, as_of - GRACE - timedelta(hours=1))
    in_grace = file(db, made, as_of - GRACE + timedelta(hours=1))
    confirmed = file(db, made, as_of - timedelta(days=20), channel=RequestChannel.officer)  # verified, open
    due_id, kept = due.id, [in_grace.id, confirmed.id]
    assert rows_of(db, PrivacyRequestEvent, [due_id]) == 1 and rows_of(db, MailMessage, [due_id]) == 1  # received; the link

    real = retention.run_sweeps(SWEEPS, as_of=as_of)
    assert real == {
        "unconfirmed_requests": {
            "mail_message": {"deleted": 1},
            "privacy_request": {"deleted": 1},
            "privacy_request_event": {"deleted": 1},
        },
        "closed_requests": {},
    }
    assert alive(db, [due_id, *kept]) == kept
    assert rows_of(db, PrivacyRequestEvent, [due_id]) == 0 and rows_of(db, MailMessage, [due_id]) == 0
    assert retention.run_sweeps(SWEEPS, as_of=as_of) == {"unconfirmed_requests": {}, "closed_requests": {}}  # idempotent
    later = retention.run_sweeps(SWEEPS, as_of=as_of + timedelta(hours=2))
    assert later["unconfirmed_requests"]["privacy_request"] == {"deleted": 1}
    assert alive(db, kept) == [confirmed.id]


def test_closed_requests_are_deleted_after_three_years_with_their_events_and_mails(app, db, made, dealer_ids, long_ago):
    as_of = long_ago
    years_ago = as_of - relativedelta(years=periods.REQUEST_RECORD_YEARS)
    filed = years_ago - timedelta(days=10)
    completed, refused, cancelled, recent, still_open = (file(db, made, filed, channel=RequestChannel.officer) for _ in range(5))
    intake.complete(db.session, completed, now=years_ago - timedelta(days=1))
    intake.refuse(db.session, refused, "Not the person", now=years_ago - timedelta(days=1))  # queues the refusal notice
    intake.cancel(db.session, cancelled, now=years_ago - timedelta(days=1))
    intake.cancel(db.session, recent, now=years_ago + timedelta(days=1))
    failed = MailMessage(kind="completed", to_address="x@example.org", language="en", subject="Done", body_text="Done", request=completed)
    old_sent = MailMessage(
        kind="completed", to_address="x@example.org", language="en", subject="Done", body_text="Done", request=completed, sent_at=filed
    )
    db.session.add_all([failed, old_sent])
    # A restriction still restricting a client is kept: it is how the person is told before it is lifted.
    customer = make_customer(db, dealer_ids["north-motors"])
    restriction = file(db, made, filed, channel=RequestChannel.officer, request_type=RequestType.restriction, email=customer.email)
    restriction.dealer_id = dealer_ids["north-motors"]
    intake.complete(db.session, restriction, now=years_ago - timedelta(days=1))
    db.session.get(Client, customer.client.id).restricted_at = years_ago
    db.session.commit()
    gone = [completed.id, refused.id, cancelled.id]
    kept = [recent.id, still_open.id, restriction.id]
    old_sent_id = old_sent.id

    real = retention.run_sweeps(["mail_outbox", "closed_requests"], as_of=as_of)
    assert real["closed_requests"] == {
        "mail_message": {"deleted": 2},  # the failed one, the refusal notice (unsent)
        "privacy_request": {"deleted": 3, "kept_restriction_in_effect": 1},
        "privacy_request_event": {"deleted": 9},  # received, verified, closed: three each
    }
    assert real["mail_outbox"]["mail_message"] == {"deleted": 1}  # the old sent one is the outbox sweep's
    assert alive(db, gone + kept) == sorted(kept)
    assert rows_of(db, PrivacyRequestEvent, gone) == 0 and rows_of(db, MailMessage, gone) == 0
    assert db.session.get(MailMessage, old_sent_id) is None

    # Once the restriction no longer restricts anything, its record goes too.
    db.session.get(Client, customer.client.id).restricted_at = None
    db.session.commit()
    again = retention.run_sweeps(["closed_requests"], as_of=as_of)
    assert again["closed_requests"]["privacy_request"] == {"deleted": 1}
    assert alive(db, kept) == sorted([recent.id, still_open.id])


def test_the_dry_run_reports_the_same(app, db, made, long_ago):
    as_of = long_ago
    years_ago = as_of - relativedelta(years=periods.REQUEST_RECORD_YEARS)
    unconfirmed = file(db, made, as_of - GRACE - timedelta(days=1))
    closed = file(db, made, years_ago - timedelta(days=5), channel=RequestChannel.officer)
    intake.cancel(db.session, closed, now=years_ago - timedelta(days=2))
    db.session.commit()
    ids = [unconfirmed.id, closed.id]

    dry = retention.run_sweeps(SWEEPS, as_of=as_of, dry_run=True)
    assert alive(db, ids) == ids  # nothing changed
    real = retention.run_sweeps(SWEEPS, as_of=as_of)
    assert (
        dry
        == real
        == {
            "unconfirmed_requests": {
                "mail_message": {"deleted": 1},
                "privacy_request": {"deleted": 1},
                "privacy_request_event": {"deleted": 1},
            },
            "closed_requests": {"privacy_request": {"deleted": 1}, "privacy_request_event": {"deleted": 3}},
        }
    )
    assert alive(db, ids) == []

    output = (
        app.test_cli_runner()
        .invoke(
            args=[
                "forecourt",
                "retention",
                "--as-of",
                as_of.isoformat(),
                "--dry-run",
                "--only",
                "unconfirmed_requests",
                "--only",
                "closed_requests",
            ]
        )
        .output
    )
    assert "  unconfirmed_requests (daily): nothing due" in output and "  closed_requests (daily): nothing due" in output
