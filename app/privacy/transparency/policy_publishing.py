"""Publishing a privacy policy version and announcing a material change.

A material change takes effect at least ``POLICY_NOTICE_DAYS`` days after it is
published and is announced to every active user by e-mail (and by the in-app banner until
it takes effect); a non-material change (a typo fix) may take effect at once and is not
announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail.audience import active_users, user_language
from app.mail.notices import queue_notice
from app.models import PolicyVersion
from app.models.base import utcnow
from app.privacy.links import public_url
from app.privacy.transparency.policy_versions import is_published, latest_published, stored_published_at


@dataclass(frozen=True)
class Publication:
    version: PolicyVersion
    notified: int  # users e-mailed about it (0 for a change that is not material)


def notice_days() -> int:
    """The configured notice period for material changes (``POLICY_NOTICE_DAYS``)."""
    return int(current_app.config["POLICY_NOTICE_DAYS"])


def earliest_effective_date(now: datetime | None = None) -> datetime:
    """The first midnight (UTC) that gives a material change its full notice period."""
    now = now or utcnow()
    earliest = now + timedelta(days=notice_days())
    day = earliest.date() if earliest.time() == time(0) else earliest.date() + timedelta(days=1)
    return datetime.combine(day, time(0))


def publish(
    session: Session,
    version_id: int,
    *,
    effective_at: datetime | None,
    material: bool,
    actor_id: int | None = None,
    now: datetime | None = None,
    notice: int | None = None,
) -> Publication:
    """Publish draft ``version_id``; the caller commits. Every rule is checked before
    anything changes, so a refused publication (``DomainError``) leaves the draft as it was.

    ``effective_at`` None means "at once", which only a non-material change may do. A
    material change is announced to every active user at once (``announce``).
    """
    now = now or utcnow()
    notice = notice_days() if notice is None else notice
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise DomainError(_l("This policy version does not exist."))
    if stored_published_at(session, version) is not None:
        raise DomainError(_l("Version %(number)s is published already.", number=version.version))
    if effective_at is not None and effective_at.tzinfo is None:
        raise ValueError("effective_at must be timezone-aware")
    if effective_at is None:
        if material:
            raise DomainError(_l("A material change needs the date it takes effect."), "effective_at")
        effective_at = now
    if effective_at < now:
        raise DomainError(_l("The effective date cannot be in the past."), "effective_at")
    if material and effective_at < now + timedelta(days=notice):
        raise DomainError(
            _l(
                "A material change takes effect at least %(days)s days after it is published: choose %(earliest)s or later.",
                days=notice,
                earliest=_format_moment(now + timedelta(days=notice)),
            ),
            "effective_at",
        )
    _check_order(session, version, effective_at)
    version.material = bool(material)  # type: ignore[assignment]
    version.effective_at = effective_at  # type: ignore[assignment]
    version.published_at = now  # type: ignore[assignment]
    version.published_by_id = actor_id  # type: ignore[assignment]
    session.flush()
    notified = announce(session, version, now=now) if version.material else 0
    return Publication(version=version, notified=notified)


def _check_order(session: Session, version: PolicyVersion, effective_at: datetime) -> None:
    """Version numbers and effective dates only ever increase."""
    latest = latest_published(session)
    if latest is None:
        return
    if version.version <= latest.version:
        raise DomainError(
            _l("Version numbers increase: this one must be above %(number)s, the latest published version.", number=latest.version),
            "version",
        )
    if effective_at < latest.effective_at:
        raise DomainError(
            _l(
                "Version %(number)s takes effect on %(date)s: a newer version cannot take effect before it.",
                number=latest.version,
                date=_format_moment(latest.effective_at),  # type: ignore[arg-type]
            ),
            "effective_at",
        )


def announce(session: Session, version: PolicyVersion, now: datetime | None = None) -> int:
    """E-mail every active user about a published material change, in their language,
    once: returns how many messages were queued (0 when it was announced already)."""
    if version.notified_at is not None or not is_published(version) or not version.material:
        return 0
    now = now or utcnow()
    link = public_url(f"/privacy?version={version.version}")
    count = 0
    for user in active_users(session):
        queue_notice(
            session,
            "policy_changed",
            to=user.email,
            language=user_language(user),
            version=version,
            policy_url=link,
            summary=version.summary or "",
        )
        count += 1
    version.notified_at = now
    session.flush()
    return count


def _format_moment(value: datetime) -> str:
    from app.domain.formatting import format_datetime

    return format_datetime(value)
