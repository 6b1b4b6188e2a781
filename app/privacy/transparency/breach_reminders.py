"""Reminders to the privacy officers as the 72 hours of GDPR Art. 33(1) run down.

The cron runs ``send_deadline_reminders`` every hour. A breach whose authority has not
been told (and that is not recorded as needing no notice, nor closed) gets one reminder
at each threshold it reaches: 48 hours left, 24, 6, then overdue. Each reminder is a
``BreachReminder`` row, unique per breach, threshold and deadline, so a second run in
the same hour, or a second cron process, sends nothing again; a threshold that was
passed while no run happened is not sent late once a more urgent one went out.
Every active privacy officer gets it in their language, and so does the configured
``PRIVACY_OFFICER_EMAIL`` (in the default language) when no officer has that address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.grants import PRIVACY_OFFICER
from app.mail import notices
from app.mail.audience import active_users, user_language
from app.models import Breach, BreachReminder, BreachStatus
from app.models.base import utcnow
from app.privacy.links import public_url
from app.privacy.transparency.breaches import OVERDUE, countdown, notice_deadline

log = logging.getLogger(__name__)

MAIL_KIND = "breach_deadline_reminder"
BREACH_PAGE = "/breachview/show/{id}"


@dataclass(frozen=True)
class Threshold:
    name: str
    left: timedelta  # reached when this much time or less is left


# Least urgent first.
THRESHOLDS = (
    Threshold("48h", timedelta(hours=48)),
    Threshold("24h", timedelta(hours=24)),
    Threshold("6h", timedelta(hours=6)),
    Threshold(OVERDUE, timedelta(0)),
)
RANK = {t.name: rank for rank, t in enumerate(THRESHOLDS)}


def threshold_reached(breach: Breach, now: datetime) -> Threshold | None:
    """The most urgent threshold the breach has reached, None when none applies (more than
    48 hours left, or the clock no longer runs)."""
    state, remaining = countdown(breach, now)
    if remaining is None:
        return None
    if state == OVERDUE:
        return THRESHOLDS[-1]
    reached = [t for t in THRESHOLDS[:-1] if remaining <= t.left]
    return reached[-1] if reached else None


def officer_recipients(session: Session) -> list[tuple[str, str]]:
    """(address, language): every active privacy officer, then the configured address."""
    found: dict[str, tuple[str, str]] = {}
    for user in active_users(session, role=PRIVACY_OFFICER):
        found.setdefault(user.email.lower(), (user.email, user_language(user)))
    configured = (current_app.config.get("PRIVACY_OFFICER_EMAIL") or "").strip()
    if configured:
        found.setdefault(configured.lower(), (configured, current_app.config["BABEL_DEFAULT_LOCALE"]))
    return list(found.values())


def running_breaches(session: Session) -> list[int]:
    """Breaches whose 72-hour clock still runs: not told to the authority, not closed."""
    query: Select[Any] = select(Breach.id).where(Breach.status == BreachStatus.open, Breach.authority_notified_at.is_(None))
    return list(session.scalars(query.order_by(Breach.became_aware_at, Breach.id)))


def remind_about(session: Session, breach_id: int, now: datetime | None = None) -> str | None:
    """Send the reminder the breach is due for, if any and not sent yet; returns the
    threshold sent. Locks the breach, so two runs at once send it once. Caller commits."""
    now = now or utcnow()
    breach = session.scalars(select(Breach).where(Breach.id == breach_id).with_for_update()).first()
    if breach is None:
        return None
    threshold = threshold_reached(breach, now)
    if threshold is None or _already_reminded(session, breach, threshold):
        return None
    recipients = officer_recipients(session)
    if not recipients:
        log.error("breach %s: nobody to remind (no active privacy officer, no PRIVACY_OFFICER_EMAIL)", breach.id)
        return None
    try:
        with session.begin_nested():
            session.add(
                BreachReminder(
                    breach_id=breach.id,
                    threshold=threshold.name,
                    deadline=notice_deadline(breach),
                    sent_at=now,
                    recipients=len(recipients),
                )
            )
    except IntegrityError:  # another run sent it a moment ago
        return None
    _, remaining = countdown(breach, now)
    url = public_url(BREACH_PAGE.format(id=breach.id))
    for address, language in recipients:
        notices.queue_notice(
            session,
            MAIL_KIND,
            to=address,
            language=language,
            breach=breach,
            threshold=threshold.name,
            deadline=notice_deadline(breach),
            hours_left=max(int(remaining // timedelta(hours=1)), 0) if remaining is not None else 0,
            hours_late=max(int(-remaining // timedelta(hours=1)), 0) if remaining is not None else 0,
            breach_url=url,
        )
    return threshold.name


def send_deadline_reminders(session: Session, now: datetime | None = None) -> dict[str, str]:
    """Remind the officers about every breach that is due for it; commits per breach (a
    failing one is rolled back and logged, the others go ahead). Returns reference →
    threshold for the reminders sent."""
    now = now or utcnow()
    sent: dict[str, str] = {}
    for breach_id in running_breaches(session):
        try:
            threshold = remind_about(session, breach_id, now)
            reference = session.get(Breach, breach_id).reference if threshold else None  # type: ignore[union-attr]
            session.commit()
        except Exception:
            session.rollback()
            log.exception("breach %s: the deadline reminder failed", breach_id)
            continue
        if threshold:
            sent[str(reference)] = threshold
    return sent


def _already_reminded(session: Session, breach: Breach, threshold: Threshold) -> bool:
    """This threshold or a more urgent one already went out for the same deadline."""
    query: Select[Any] = select(BreachReminder.threshold).where(
        BreachReminder.breach_id == breach.id, BreachReminder.deadline == notice_deadline(breach)
    )
    return any(RANK.get(name, -1) >= RANK[threshold.name] for name in session.scalars(query))
