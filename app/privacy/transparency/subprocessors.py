"""Sub-processors: the companies that process personal data for Forecourt, listed
publicly at /privacy/subprocessors. Adding one tells every dealer admin by e-mail, once
(``notified_at``), whichever way it was added (web view, API, command line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.grants import DEALER_ADMIN
from app.mail.audience import active_users, user_language
from app.mail.notices import queue_notice
from app.models import SubProcessor
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.links import public_url

# A sub-processor may be announced ahead of the day it starts, but not indefinitely.
MAX_DAYS_AHEAD = 180
# Removed sub-processors stay on the public page, separately, for a year.
REMOVED_SHOWN_DAYS = 365
REQUIRED = {
    "name": _l("Name the company."),
    "purpose": _l("Say what the company does with the data."),
    "location": _l("Say where the company processes the data."),
}


@dataclass(frozen=True)
class PublicList:
    active: list[SubProcessor]
    planned: list[SubProcessor]
    removed: list[SubProcessor]


def check_subprocessor(item: SubProcessor, today: date | None = None) -> None:
    """The rules of a sub-processor entry; tidies the text fields. Raises ``DomainError``."""
    today = today or utcnow().date()
    for field, message in REQUIRED.items():
        value = (getattr(item, field) or "").strip()
        if not value:
            raise DomainError(message, field)
        setattr(item, field, value)
    item.website = (item.website or "").strip() or None  # type: ignore[assignment]
    if item.website and not item.website.lower().startswith(("https://", "http://")):
        raise DomainError(_l("The website must start with https://"), "website")
    if item.since is None:
        raise DomainError(_l("Enter the date the company started processing data for us."), "since")
    if item.since > today + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            _l(
                "The start date can be at most %(days)s days ahead.",
                days=MAX_DAYS_AHEAD,
            ),
            "since",
        )
    if item.removed_on is not None and item.removed_on < item.since:
        raise DomainError(_l("A sub-processor cannot be removed before it started."), "removed_on")


def add_subprocessor(
    session: Session,
    *,
    name: str,
    purpose: str,
    location: str,
    since: date,
    website: str | None = None,
    now: datetime | None = None,
) -> SubProcessor:
    """Add a sub-processor and tell the dealer admins; the caller commits."""
    now = now or utcnow()
    item = SubProcessor(name=name, purpose=purpose, location=location, since=since, website=website)
    check_subprocessor(item, now.date())
    session.add(item)
    session.flush()
    notify_added(session, item, now=now)
    return item


def notify_added(session: Session, item: SubProcessor, now: datetime | None = None) -> int:
    """E-mail every active dealer admin about ``item`` in their language, once; returns
    how many messages were queued (0 when they were told already)."""
    if item.notified_at is not None:
        return 0
    now = now or utcnow()
    link = public_url("/privacy/subprocessors")
    count = 0
    for user in dealer_admins(session):
        queue_notice(
            session,
            "subprocessor_added",
            to=user.email,
            language=user_language(user),
            subprocessor=item,
            list_url=link,
        )
        count += 1
    item.notified_at = now
    session.flush()
    return count


def dealer_admins(session: Session) -> list[DealerUser]:
    """Every dealer's active admins."""
    return active_users(session, role=DEALER_ADMIN)


def public_list(session: Session, today: date | None = None) -> PublicList:
    """What /privacy/subprocessors shows: working for us now, announced to start, and
    removed within the last year."""
    today = today or utcnow().date()
    shown_since = today - timedelta(days=REMOVED_SHOWN_DAYS)
    rows = session.scalars(
        select(SubProcessor)
        .where(
            or_(
                SubProcessor.removed_on.is_(None),
                SubProcessor.removed_on >= shown_since,  # type: ignore[arg-type]
            )
        )
        .order_by(SubProcessor.name)
    ).all()
    removed = [r for r in rows if r.removed_on is not None and r.removed_on <= today]
    planned = [r for r in rows if r not in removed and r.since > today]
    active = [r for r in rows if r not in removed and r not in planned]
    return PublicList(
        active=active,
        planned=planned,
        removed=sorted(removed, key=lambda r: r.removed_on, reverse=True),
    )
