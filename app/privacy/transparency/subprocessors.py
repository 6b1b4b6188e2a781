"""Sub-processors: the companies that process personal data for Forecourt, listed
publicly at /privacy/subprocessors. Adding one tells every dealer admin by e-mail, once
(``notified_at``), whichever way it was added (web view, API, command line).

They are the recipients the Art. 15 summary and the record of processing name, by
category (hosting, e-mail, backups), with their country, data processing agreement and,
outside the EEA, the transfer's safeguard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.contact import normalise_country
from app.domain.grants import DEALER_ADMIN
from app.mail.audience import active_users, user_language
from app.mail.notices import queue_notice
from app.models import SubProcessor, SubProcessorCategory, TransferSafeguard
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
    _check_recipient_facts(item, today)


def _check_recipient_facts(item: SubProcessor, today: date) -> None:
    """What the Art. 15 summary and the record of processing say about the company."""
    if item.category is None:
        raise DomainError(_l("Choose what the company does with the data."), "category")
    item.country = normalise_country(item.country)  # type: ignore[assignment,arg-type]
    if item.country is None:
        raise DomainError(_l("Enter the country where the company processes the data, e.g. DE."), "country")
    if item.dpa_signed_on is not None and item.dpa_signed_on > today:
        raise DomainError(_l("The data processing agreement cannot be signed in the future."), "dpa_signed_on")
    if not item.is_transfer:
        item.transfer_safeguard = None  # type: ignore[assignment]  # inside the EEA: no transfer
    elif item.transfer_safeguard is None:
        raise DomainError(_l("Outside the EEA, say what safeguards the transfer."), "transfer_safeguard")


def add_subprocessor(
    session: Session,
    *,
    name: str,
    purpose: str,
    location: str,
    since: date,
    country: str,
    category: SubProcessorCategory,
    website: str | None = None,
    dpa_signed_on: date | None = None,
    transfer_safeguard: TransferSafeguard | None = None,
    now: datetime | None = None,
) -> SubProcessor:
    """Add a sub-processor and tell the dealer admins; the caller commits."""
    now = now or utcnow()
    item = SubProcessor(
        name=name,
        purpose=purpose,
        location=location,
        since=since,
        website=website,
        country=country,
        category=category,
        dpa_signed_on=dpa_signed_on,
        transfer_safeguard=transfer_safeguard,
    )
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


def in_service(session: Session, today: date | None = None) -> list[SubProcessor]:
    """The companies processing data for us on ``today``: the recipients to name."""
    return public_list(session, today).active


def by_category(items: list[SubProcessor]) -> list[tuple[SubProcessorCategory, list[SubProcessor]]]:
    """``items`` grouped by category, in the category's order (hosting, e-mail, backups,
    other); categories without a company are left out."""
    return [
        (category, [i for i in items if i.category is category])
        for category in SubProcessorCategory
        if any(i.category is category for i in items)
    ]


def transfers(items: list[SubProcessor]) -> list[SubProcessor]:
    """The companies among ``items`` outside the EEA: international transfers."""
    return [item for item in items if item.is_transfer]
