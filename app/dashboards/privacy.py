"""The privacy officer's home: requests overdue, due within five days and open by type;
breaches inside their 72 hours (and those past them, still open); mails given up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.dashboards import Figure, url_time, whole_seconds
from app.domain.dashboard import due_soon_until
from app.extensions import db
from app.models import CLOSED_STATUSES, OPEN_STATUSES, Breach, BreachStatus, MailMessage, PrivacyRequest, RequestType
from app.privacy.transparency.breaches import NOTICE_WITHIN

# The mail outbox lists a time filter only: "given up after 2000" is "given up".
EVER = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class OpenBreach:
    id: int
    reference: str
    title: str
    deadline: datetime


@dataclass(frozen=True)
class PrivacyHome:
    overdue: Figure
    due_soon: Figure
    by_type: list[Figure]
    breaches_in_clock: Figure
    breaches_past_clock: Figure
    next_breaches: list[OpenBreach]
    failed_mails: Figure


def _open_filter() -> dict[str, str | list[str]]:
    return {"_flt_1_status": [status.name for status in CLOSED_STATUSES]}


def requests_overdue(now: datetime) -> Figure:
    now = whole_seconds(now)
    count = db.session.scalar(
        select(func.count()).select_from(PrivacyRequest).where(PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at < now)
    )
    return Figure("overdue", count or 0, "PrivacyRequestView", {**_open_filter(), "_flt_2_due_at": url_time(now)})


def requests_due_soon(now: datetime) -> Figure:
    now = whole_seconds(now)
    until = due_soon_until(now)
    count = db.session.scalar(
        select(func.count())
        .select_from(PrivacyRequest)
        .where(PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at > now, PrivacyRequest.due_at < until)
    )
    filters = {**_open_filter(), "_flt_1_due_at": url_time(now), "_flt_2_due_at": url_time(until)}
    return Figure("due_soon", count or 0, "PrivacyRequestView", filters)


def open_requests_by_type() -> list[Figure]:
    stmt = (
        select(PrivacyRequest.request_type, func.count())
        .where(PrivacyRequest.status.in_(OPEN_STATUSES))
        .group_by(PrivacyRequest.request_type)
    )
    counts = dict(db.session.execute(stmt).all())
    return [
        Figure(kind.value, counts.get(kind, 0), "PrivacyRequestView", {**_open_filter(), "_flt_0_request_type": kind.name})
        for kind in RequestType
    ]


def breaches(now: datetime) -> tuple[Figure, Figure, list[OpenBreach]]:
    """Open breaches (the authority not told, nor the breach judged not notifiable) that
    became known less than 72 hours ago, those known longer, and the next deadlines."""
    now = whole_seconds(now)
    started_after = now - NOTICE_WITHIN
    is_open = Breach.status == BreachStatus.open
    inside = db.session.scalar(select(func.count()).select_from(Breach).where(is_open, Breach.became_aware_at > started_after))
    past = db.session.scalar(select(func.count()).select_from(Breach).where(is_open, Breach.became_aware_at < started_after))
    status = {"_flt_0_status": BreachStatus.open.name}
    rows = db.session.execute(
        select(Breach.id, Breach.reference, Breach.title, Breach.became_aware_at)
        .where(is_open, Breach.became_aware_at > started_after)
        .order_by(Breach.became_aware_at)
        .limit(5)
    ).all()

    upcoming = [OpenBreach(id, ref, title, aware + NOTICE_WITHIN) for id, ref, title, aware in rows]
    return (
        Figure("inside_72h", inside or 0, "BreachView", {**status, "_flt_1_became_aware_at": url_time(started_after)}),
        Figure("past_72h", past or 0, "BreachView", {**status, "_flt_2_became_aware_at": url_time(started_after)}),
        upcoming,
    )


def failed_mails() -> Figure:
    count = db.session.scalar(select(func.count()).select_from(MailMessage).where(MailMessage.failed_at.is_not(None)))
    return Figure("failed_mails", count or 0, "MailOutboxView", {"_flt_1_failed_at": EVER})


def privacy_home(now: datetime) -> PrivacyHome:
    inside, past, upcoming = breaches(now)
    return PrivacyHome(
        overdue=requests_overdue(now),
        due_soon=requests_due_soon(now),
        by_type=open_requests_by_type(),
        breaches_in_clock=inside,
        breaches_past_clock=past,
        next_breaches=upcoming,
        failed_mails=failed_mails(),
    )
