"""The notice period of a material change to the privacy policy: the earliest day such a
change may take effect (the Publish form offers it)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from app.models.base import utcnow
from app.privacy.transparency.policy import notice_days


def earliest_effective_date(now: datetime | None = None) -> datetime:
    """The first midnight (UTC) that gives a material change its full notice period."""
    now = now or utcnow()
    earliest = now + timedelta(days=notice_days())
    day = earliest.date() if earliest.time() == time(0) else earliest.date() + timedelta(days=1)
    return datetime.combine(day, time(0))
