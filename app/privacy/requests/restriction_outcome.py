"""What a restriction (GDPR Art. 18) or an objection (Art. 21) did in each category of
data the registry knows, and what it did not do and why.

Client data (clients, inquiries, sales) and the usage log are restricted row by row
(``restricted_at``); a user account's usage log stops recording (``usage_restricted_at``
for a restriction, ``usage_objected_at`` for an objection). Every other category found
is kept as it is, for the reason its declaration gives. The request's event log and the
completion mail say exactly that, and say so when nothing could be restricted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import DealerUser, PageView
from app.privacy.registry import Entry, entries, entry_for
from app.privacy.requests.subjects import Subject, rows_of

RESTRICTED, STOPPED, KEPT = "restricted", "usage_log_stopped", "kept"
ACCOUNT_KEPT_REASON = _l(
    "Needed to sign you in and to provide the service to your dealership; it cannot be restricted while "
    "the account is in use. To end it, ask for your account to be deleted."
)


def translatable(value: Any) -> Any:
    """A declaration's text, translated when rendered (some are plain ``N_`` strings)."""
    return _l(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Line:
    """One category: what happened to how many of the person's rows, and why."""

    table: str
    category: str
    title: Any
    action: str
    rows: int
    reason: Any = None

    def as_data(self) -> dict[str, Any]:
        return {"table": self.table, "category": self.category, "action": self.action, "rows": self.rows}


@dataclass
class Outcome:
    """The whole answer to one restriction or objection."""

    lines: list[Line] = field(default_factory=list)

    def of(self, action: str) -> list[Line]:
        return [line for line in self.lines if line.action == action]

    @property
    def restricted(self) -> list[Line]:
        return self.of(RESTRICTED)

    @property
    def stopped(self) -> list[Line]:
        return self.of(STOPPED)

    @property
    def kept(self) -> list[Line]:
        return self.of(KEPT)

    @property
    def nothing_restricted(self) -> bool:
        return not (self.restricted or self.stopped)

    def as_data(self) -> dict[str, Any]:
        """For the event log: categories, actions and counts only (no personal data)."""
        return {"categories": [line.as_data() for line in self.lines], "nothing_restricted": self.nothing_restricted}


def count_rows(session: Session, entry: Entry, subject: Subject) -> int:
    query = rows_of(entry, subject, session).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def users_of(session: Session, subject: Subject) -> list[DealerUser]:
    """The person's user accounts: whole-platform requests only (accounts are the platform's)."""
    entry = entry_for(DealerUser)
    return list(session.scalars(rows_of(entry, subject, session))) if entry is not None else []


def stop_usage_log(session: Session, users: list[DealerUser], now: datetime, column: str) -> int:
    """Stamp ``column`` (``usage_restricted_at`` or ``usage_objected_at``) on each user, so
    their page views are no longer recorded, and restrict the views already recorded;
    returns how many of those views were newly restricted."""
    for user in users:
        if getattr(user, column) is None:
            setattr(user, column, now)
    if not users:
        return 0
    result = session.execute(
        update(PageView)
        .where(PageView.user_id.in_([u.id for u in users]), PageView.restricted_at.is_(None))
        .values(restricted_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def lift_usage_restriction(session: Session, subject: Subject) -> int:
    """Lift a restriction of the usage log: recording starts again (unless the user objected
    to it), and the views stay restricted while an objection stands. Returns the users."""
    users = [u for u in users_of(session, subject) if u.usage_restricted_at is not None]
    for user in users:
        user.usage_restricted_at = None  # type: ignore[assignment]  # untyped Column model
    return len(users)


def usage_still_objected(session: Session, subject: Subject) -> list[int]:
    """Users whose page views stay restricted after a lift: they objected to the usage log."""
    return [u.id for u in users_of(session, subject) if u.usage_objected_at is not None]


def restricted_users(session: Session, subject: Subject) -> int:
    return sum(1 for u in users_of(session, subject) if u.usage_restricted_at is not None)


def restriction_outcome(session: Session, subject: Subject, restricted: dict[str, int], users: list[DealerUser]) -> Outcome:
    """Every category of the registry in which the person has rows: restricted (with the
    counts the job found), the usage log stopped for their accounts, or kept, and why."""
    outcome = Outcome()
    for entry in entries():
        d, table = entry.declaration, entry.table
        if table in restricted:
            rows = restricted[table]
            if rows:
                outcome.lines.append(Line(table, d.category, translatable(d.title), RESTRICTED, rows))
            continue
        rows = len(users) if table == DealerUser.__tablename__ else count_rows(session, entry, subject)
        if not rows:
            continue
        if table == DealerUser.__tablename__:
            usage = entry_for(PageView)
            title = translatable(usage.declaration.title if usage else d.title)
            outcome.lines.append(Line(PageView.__tablename__, usage.category if usage else "usage", title, STOPPED, rows))
            outcome.lines.append(Line(table, d.category, translatable(d.title), KEPT, rows, ACCOUNT_KEPT_REASON))
            continue
        outcome.lines.append(Line(table, d.category, translatable(d.title), KEPT, rows, translatable(d.keep_reason or d.purpose)))
    return outcome
