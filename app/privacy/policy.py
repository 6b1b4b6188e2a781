"""Privacy policy versions: which one is in force, and publishing a new one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PolicyVersion
from app.models.base import utcnow


def current_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """The version in force: the latest published one whose effective date has come."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at <= now)
        .order_by(PolicyVersion.effective_at.desc(), PolicyVersion.version.desc())
        .limit(1)
    ).first()


def upcoming_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """A published version that has not taken effect yet (announced, shown in the banner)."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at > now)
        .order_by(PolicyVersion.effective_at)
        .limit(1)
    ).first()
