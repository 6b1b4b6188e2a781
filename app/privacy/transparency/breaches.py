"""The personal-data breach register (GDPR Art. 33).

A breach must be reported to the supervisory authority within 72 hours of becoming aware
of it (Art. 33(1)); a later notice states the reasons for the delay. The register keeps the
Art. 33(3) facts of every breach, including those that need no notice (Art. 33(5)), and
which dealers (the controllers of their clients' data) were told, and when (Art. 33(2)).
Functions take a session, ids and ``now``; callers commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.grants import DEALER_ADMIN
from app.mail import notices
from app.mail.audience import active_users, user_language
from app.models import Breach, BreachDealerNotice, BreachStatus, Dealer
from app.models.base import utcnow
from app.models.users import DealerUser

NOTICE_WITHIN = timedelta(hours=72)
DUE_SOON_WITHIN = timedelta(hours=24)
MAIL_KIND = "breach_dealer_notice"
REFERENCE_PREFIX = "BR"

# Countdown states.
OPEN = "open"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
NOTIFIED = "notified"
NOT_NOTIFIABLE = "not_notifiable"
CLOSED = "closed"

TIME_FIELDS = ("became_aware_at", "occurred_from", "occurred_until", "authority_notified_at", "subjects_informed_at")


# -- the 72 hours ----------------------------------------------------------------------


def notice_deadline(breach: Any) -> datetime:
    """When the authority must have been told: 72 hours after becoming aware."""
    return breach.became_aware_at + NOTICE_WITHIN


def countdown(breach: Any, now: datetime | None = None) -> tuple[str, timedelta | None]:
    """Where the breach stands against the 72 hours, and the time left (negative when
    overdue; None once the clock no longer runs)."""
    status = _status(getattr(breach, "status", None))
    if breach.authority_notified_at is not None or status is BreachStatus.notified:
        return NOTIFIED, None
    if status is BreachStatus.not_notifiable:
        return NOT_NOTIFIABLE, None
    if status is BreachStatus.closed:
        return CLOSED, None
    remaining = notice_deadline(breach) - (now or utcnow())
    if remaining <= timedelta(0):
        return OVERDUE, remaining
    if remaining < DUE_SOON_WITHIN:
        return DUE_SOON, remaining
    return OPEN, remaining


# -- recording -------------------------------------------------------------------------


def problems(breach: Any, now: datetime | None = None) -> list[DomainError]:
    """Every rule the breach's values break, each naming its field; empty when valid.
    ``breach`` is a ``Breach`` or anything with the same attributes (a form's data)."""
    now = now or utcnow()
    value = _reader(breach)
    status = _status(value("status"))
    aware, notified = value("became_aware_at"), value("authority_notified_at")
    found = [DomainError(_l("This time is in the future."), name) for name in TIME_FIELDS if value(name) is not None and value(name) > now]
    if value("occurred_from") and value("occurred_until") and value("occurred_until") < value("occurred_from"):
        found.append(DomainError(_l("The breach cannot end before it started."), "occurred_until"))
    if aware is not None and notified is not None and notified < aware:
        found.append(DomainError(_l("The authority cannot have been told before you became aware of the breach."), "authority_notified_at"))
    if aware is not None and value("subjects_informed_at") is not None and value("subjects_informed_at") < aware:
        found.append(
            DomainError(_l("The people affected cannot have been told before you became aware of the breach."), "subjects_informed_at")
        )
    if aware is not None and notified is not None and notified > aware + NOTICE_WITHIN and not _text(value("delay_reason")):
        found.append(
            DomainError(
                _l("The authority was told more than 72 hours after you became aware: give the reasons for the delay (Art. 33(1))."),
                "delay_reason",
            )
        )
    if status is BreachStatus.notified and notified is None:
        found.append(DomainError(_l("Enter when the authority was told."), "authority_notified_at"))
    if status is BreachStatus.not_notifiable and not _text(value("not_notifiable_reason")):
        found.append(
            DomainError(_l("Explain why the breach is unlikely to result in a risk to people (Art. 33(1))."), "not_notifiable_reason")
        )
    for name in ("approx_subjects", "approx_records"):
        if value(name) is not None and value(name) < 0:
            found.append(DomainError(_l("Enter zero or more."), name))
    return found


def prepare(session: Session, breach: Breach, actor_id: int | None = None, now: datetime | None = None) -> Breach:
    """Check a new or changed breach and fill what the register derives: the reference,
    who recorded it, and the status once the authority was told. Raises the first problem."""
    now = now or utcnow()
    if breach.authority_notified_at is not None and _status(breach.status) in (None, BreachStatus.open):
        breach.status = BreachStatus.notified  # type: ignore[assignment]
    found = problems(breach, now)
    if found:
        raise found[0]
    if breach.status is None:
        breach.status = BreachStatus.open
    if not breach.reference:
        breach.reference = next_reference(session, now)  # type: ignore[assignment]
    if breach.recorded_by_id is None and actor_id is not None:
        breach.recorded_by_id = actor_id
    return breach


def record_breach(session: Session, *, actor_id: int | None = None, now: datetime | None = None, **values: Any) -> Breach:
    """Add a breach to the register (the view's add form does the same through ``prepare``)."""
    breach = Breach(**values)
    with session.no_autoflush:
        prepare(session, breach, actor_id=actor_id, now=now)
    session.add(breach)
    session.flush()
    return breach


def next_reference(session: Session, now: datetime | None = None) -> str:
    """``BR-<year>-<number>``, numbered from 001 each year."""
    prefix = f"{REFERENCE_PREFIX}-{(now or utcnow()).year}-"
    taken: Iterable[str | None] = session.scalars(select(Breach.reference).where(Breach.reference.like(f"{prefix}%")))
    numbers = [int(m.group(1)) for ref in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", ref or ""))]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


# -- telling the dealers ---------------------------------------------------------------


@dataclass
class DealerNoticeResult:
    """What ``notify_dealers`` did, by dealer id."""

    told: list[int] = field(default_factory=list)
    already_told: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)  # no active admin, no e-mail address
    messages: int = 0


def dealer_admins(session: Session, dealer_id: int) -> list[DealerUser]:
    """The dealer's active DealerAdmin users."""
    return active_users(session, dealer_id=dealer_id, role=DEALER_ADMIN)


def dealer_recipients(session: Session, dealer: Dealer) -> list[tuple[str, str]]:
    """(address, language) of whom to tell: the active admins, else the dealer's address."""
    recipients = [(user.email, user_language(user)) for user in dealer_admins(session, dealer.id)]  # type: ignore[arg-type]
    if not recipients and dealer.email:
        recipients = [(dealer.email, "en")]
    return recipients


def notify_dealers(
    session: Session, breach_id: int, dealer_ids: list[int], actor_id: int | None, now: datetime | None = None
) -> DealerNoticeResult:
    """Tell each affected dealer about the breach (Art. 33(2)): one e-mail to each of its
    active admins, in their language. A dealer already told is not told again; a dealer
    nobody can be told stays listed as affected, not told."""
    now = now or utcnow()
    breach = session.get(Breach, breach_id)
    if breach is None:
        raise DomainError(_l("There is no such breach."))
    chosen = sorted({int(d) for d in dealer_ids})
    if not chosen:
        raise DomainError(_l("Choose at least one dealer."), "dealers")
    dealers: dict[int, Dealer] = {d.id: d for d in session.scalars(select(Dealer).where(Dealer.id.in_(chosen)))}  # type: ignore[misc]
    if len(dealers) != len(chosen):
        raise DomainError(_l("The selected record does not exist."), "dealers")
    _ensure_notice_rows(session, breach_id, chosen)
    result = DealerNoticeResult()
    for dealer_id in chosen:
        dealer = dealers[dealer_id]
        recipients = dealer_recipients(session, dealer)
        if not recipients:
            result.unreachable.append(dealer_id)
        elif not _claim(session, breach_id, dealer_id, actor_id, now):
            result.already_told.append(dealer_id)
        else:
            for address, language in recipients:
                notices.queue_notice(
                    session, MAIL_KIND, to=address, language=language, breach=breach, dealer=dealer, contact=contact_point(breach)
                )
            result.told.append(dealer_id)
            result.messages += len(recipients)
    session.expire(breach, ["dealer_notices"])
    return result


def contact_point(breach: Breach) -> str:
    """Where to ask for more information (Art. 33(3)(b))."""
    return breach.contact_point or current_app.config.get("PRIVACY_OFFICER_EMAIL") or ""  # type: ignore[return-value]


def _ensure_notice_rows(session: Session, breach_id: int, dealer_ids: list[int]) -> None:
    """Mark the dealers as affected (a row each, not told yet)."""
    existing: set[int] = set(session.scalars(select(BreachDealerNotice.dealer_id).where(BreachDealerNotice.breach_id == breach_id)))
    missing = [{"breach_id": breach_id, "dealer_id": d} for d in dealer_ids if d not in existing]
    if not missing:
        return
    try:
        session.execute(insert(BreachDealerNotice), missing)
    except IntegrityError:  # the caller rolls back
        raise DomainError(_l("Someone else is telling these dealers right now. Reload the page and try again.")) from None


def _claim(session: Session, breach_id: int, dealer_id: int, actor_id: int | None, now: datetime) -> bool:
    """Mark the dealer told, unless it already was: one UPDATE, so two people telling the
    same dealer at once send it one notice."""
    result = session.execute(
        update(BreachDealerNotice)
        .where(
            BreachDealerNotice.breach_id == breach_id,
            BreachDealerNotice.dealer_id == dealer_id,
            BreachDealerNotice.notified_at.is_(None),
        )
        .values(notified_at=now, notified_by_id=actor_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _reader(breach: Any) -> Callable[[str], Any]:
    if isinstance(breach, dict):
        return breach.get
    return lambda name: getattr(breach, name, None)


def _status(value: Any) -> BreachStatus | None:
    if value is None or value == "" or isinstance(value, BreachStatus):
        return value or None
    try:
        return BreachStatus(getattr(value, "value", value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return str(value or "").strip()
