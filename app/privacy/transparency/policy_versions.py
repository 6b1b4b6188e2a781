"""Privacy policy versions as they stand: which one is in force, which is announced, the
public archive, and the next free version number.

Version numbers and effective dates only ever increase, so the newest version in force is
always the one with the highest number. Drafting is in ``policy_drafts``, publishing in
``policy_publishing``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import PolicyVersion
from app.models.base import utcnow


def current_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """The version in force: the latest published one whose effective date has come."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at <= now)  # type: ignore[arg-type]
        .order_by(PolicyVersion.effective_at.desc(), PolicyVersion.version.desc())
        .limit(1)
    ).first()


def upcoming_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """A published version that has not taken effect yet (announced, shown in the banner)."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at > now)  # type: ignore[arg-type]
        .order_by(PolicyVersion.effective_at)
        .limit(1)
    ).first()


def announced_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """The material change that is published but not yet in force: the in-app banner
    shows it to signed-in users from its publication until its effective date."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.published_at.is_not(None),
            PolicyVersion.published_at <= now,  # type: ignore[arg-type]
            PolicyVersion.effective_at > now,  # type: ignore[arg-type]
            PolicyVersion.material.is_(True),
        )
        .order_by(PolicyVersion.effective_at)
        .limit(1)
    ).first()


def published_versions(session: Session) -> list[PolicyVersion]:
    """Every published version, newest first (the public archive)."""
    return list(
        session.scalars(select(PolicyVersion).where(PolicyVersion.published_at.is_not(None)).order_by(PolicyVersion.version.desc()))
    )


def published_version(session: Session, number: int) -> PolicyVersion | None:
    """Published version ``number``; None for a draft or a number that does not exist."""
    return session.scalars(select(PolicyVersion).where(PolicyVersion.version == number, PolicyVersion.published_at.is_not(None))).first()


def latest_published(session: Session) -> PolicyVersion | None:
    """The published version with the highest number, in force or not yet."""
    return session.scalars(
        select(PolicyVersion).where(PolicyVersion.published_at.is_not(None)).order_by(PolicyVersion.version.desc()).limit(1)
    ).first()


def is_published(version: PolicyVersion) -> bool:
    return version.published_at is not None


def stored_published_at(session: Session, version: PolicyVersion) -> datetime | None:
    """When ``version`` was published as the database says, whatever the object now holds."""
    if version.id is None:
        return None
    with session.no_autoflush:
        return session.scalar(select(PolicyVersion.published_at).where(PolicyVersion.id == version.id))


def next_version_number(session: Session) -> int:
    return (session.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
