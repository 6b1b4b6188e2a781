"""The usage log: one row per HTML page a signed-in user opens (usage and technical data).

A page view is cheap: one INSERT, whose IP address and user agent are decided inside the
statement by the dealer's ``record_visitor_ip`` setting (internal staff have no dealer: never
stored; the referring page is cut to its origin, scheme and host), plus at
most one UPDATE that sets the previous view's ``duration_ms``. The previous view of the same
browser session is handed in as a ``ViewMark`` (the web layer keeps it in the session), so
no lookup is needed. Rows are exported and erased through the privacy registry (``PageView``'s
declaration, found by user) and deleted after ``USAGE_LOG_RETENTION_DAYS`` by the retention sweep.
A user who restricted (GDPR Art. 18) or objected to (Art. 21) the usage log is not logged
(``is_usage_logged``); their earlier views are restricted (``app.privacy.requests.restriction``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, String, case, insert, literal, null, select, update
from sqlalchemy.orm import Session

from app.models import Dealer, PageView
from app.models.base import utcnow

DURATION_CAP = timedelta(minutes=30)
PATH_MAX = 500
FEATURE_MAX = 120
USER_AGENT_MAX = 300
IP_MAX = 45
ORIGIN_MAX = 300


@dataclass(frozen=True)
class ViewMark:
    """The last page view of a browser session: the next view sets its duration."""

    user_id: int
    view_id: int
    viewed_at: datetime

    def to_session(self) -> list:
        """A JSON-safe form for the (signed) session cookie."""
        return [self.user_id, self.view_id, self.viewed_at.timestamp()]

    @classmethod
    def from_session(cls, value: object) -> ViewMark | None:
        """The mark stored by ``to_session``; None for anything else."""
        try:
            user_id, view_id, timestamp = cast("tuple[Any, Any, Any]", value)
            return cls(int(user_id), int(view_id), datetime.fromtimestamp(float(timestamp), tz=UTC))
        except (TypeError, ValueError, OverflowError, OSError):
            return None


def is_usage_logged(user: object) -> bool:
    """False for a user whose usage log is stopped by a restriction or an objection."""
    return getattr(user, "usage_restricted_at", None) is None and getattr(user, "usage_objected_at", None) is None


def duration_ms(viewed_at: datetime, next_viewed_at: datetime) -> int | None:
    """Milliseconds from one view to the next, capped at ``DURATION_CAP``; None when the
    clocks disagree (the next view seems earlier)."""
    delta = next_viewed_at - viewed_at
    if delta < timedelta(0):
        return None
    return int(min(delta, DURATION_CAP) / timedelta(milliseconds=1))


def record_page_view(
    session: Session,
    user_id: int,
    dealer_id: int | None,
    path: str,
    feature: str | None,
    user_agent: str | None,
    ip: str | None,
    now: datetime | None = None,
    previous: ViewMark | None = None,
    referrer: str | None = None,
) -> ViewMark:
    """Log one page view of a signed-in user and close the previous view of the same
    session (``previous``, when it is this user's). The caller commits."""
    now = now or utcnow()
    if previous is not None and previous.user_id == user_id:
        close_view(session, previous, now)
    result = session.execute(
        insert(PageView).values(
            user_id=user_id,
            dealer_id=dealer_id,
            path=_cut(path.split("?", 1)[0], PATH_MAX) or "/",
            feature=_cut(feature, FEATURE_MAX),
            viewed_at=now,
            user_agent=_if_ips_recorded(dealer_id, _cut(user_agent, USER_AGENT_MAX)),
            ip_address=_if_ips_recorded(dealer_id, _cut(ip, IP_MAX)),
            referrer_origin=_cut(referrer_origin(referrer), ORIGIN_MAX),
        )
    )
    primary_key = cast("CursorResult[Any]", result).inserted_primary_key
    assert primary_key is not None  # an INSERT of one row
    return ViewMark(user_id, int(primary_key[0]), now)


def close_view(session: Session, previous: ViewMark, now: datetime) -> bool:
    """Set the previous view's duration, once; True when a row was updated."""
    ms = duration_ms(previous.viewed_at, now)
    if ms is None:
        return False
    result = session.execute(
        update(PageView)
        .where(PageView.id == previous.view_id, PageView.user_id == previous.user_id, PageView.duration_ms.is_(None))
        .values(duration_ms=ms)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def referrer_origin(url: str | None) -> str | None:
    """The referring page's origin (``https://host[:port]``), never its path or query;
    None for anything that is not an http(s) address."""
    try:
        parts = urlsplit((url or "").strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def _if_ips_recorded(dealer_id: int | None, value: str | None):
    """The IP address or user agent only when the user's dealer records IPs: decided by
    the INSERT itself."""
    if dealer_id is None or not value:
        return None
    allowed = case((Dealer.record_visitor_ip.is_(True), literal(value, String)), else_=null())
    return select(allowed).where(Dealer.id == dealer_id).scalar_subquery()


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
