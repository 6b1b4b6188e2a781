"""What the account steps are built from: a step planned as rows per table per action, then
applied, verified and certified.

Every step (a user's anonymisation, a dealer's day 30, its 3 years) plans first, then applies
the same plan, so a dry run returns exactly what the real run does. ``certify`` refuses a
step whose verification found values left, and otherwise writes its ``RetentionEvent``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.models import Dealer, DealerStatus, MailMessage, PrivacyRequest, RetentionEvent
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.ledger import store as ledger
from app.privacy.ledger.rows import note_rows
from app.privacy.lifecycle.sweeping import Counts, mail_cutoff

log = logging.getLogger(__name__)

DELETED, ANONYMISED, RESTRICTED = "deleted", "anonymised", "restricted"


class AccountVerificationFailed(RuntimeError):
    """A deletion left personal values behind; the message names checks and counts only."""


@dataclass
class Step:
    """One table's share of a step: what it does to how many rows, and how."""

    table: str
    action: str
    count: int
    run: Callable[[], object]


def delete_step(
    session: Session, model: Any, where: Any, before: Callable[[Session, Any], Callable[[], None] | None] | None = None
) -> Step:
    """Delete ``model``'s rows matching ``where``; ``before`` (given the session and ``where``)
    may return what to do once they are deleted."""
    count = rows(session, model, where)

    def run() -> None:
        from app.privacy.requests.erasure_rows import delete_rows

        after = before(session, where) if before is not None else None
        delete_rows(session, model, where)
        if after is not None:
            after()

    return Step(model.__tablename__, DELETED, count, run)


def rows(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def counts_of(steps: list[Step]) -> Counts:
    """Rows per table per action of the steps; zero counts are left out."""
    counts: Counts = {}
    for step in steps:
        if step.count:
            table = counts.setdefault(step.table, {})
            table[step.action] = table.get(step.action, 0) + step.count
    return counts


def apply(steps: list[Step]) -> None:
    for step in steps:
        if step.count:
            step.run()


def certify(
    session: Session,
    kind: str,
    as_of: datetime,
    counts: Counts,
    checks: dict,
    *,
    dealer_id: int | None,
    user_id: int | None = None,
    **facts: Any,
) -> None:
    """Refuse a step whose verification found values left; otherwise log it with its
    certificate (the caller commits both together)."""
    left = _nonzero(checks)
    if left:
        log.error("%s of dealer %s / user %s failed verification: %s", kind, dealer_id, user_id, left)
        raise AccountVerificationFailed(f"values left after {kind}: {left}")
    ids = {"dealer_id": dealer_id} if user_id is None else {"user_id": user_id}
    session.add(
        RetentionEvent(
            kind=kind,
            dealer_id=dealer_id,
            user_id=user_id,
            as_of=as_of,
            occurred_at=utcnow(),
            dry_run=False,
            summary=counts,
            certificate=_certificate(as_of, counts, checks, **ids, **facts),
        )
    )


def _nonzero(checks: dict) -> dict:
    found = {}
    for key, value in checks.items():
        if isinstance(value, dict):
            nested = _nonzero(value)
            if nested:
                found[key] = nested
        elif value:
            found[key] = value
    return found


def _certificate(as_of: datetime, counts: Counts, checks: dict, **facts: Any) -> dict:
    return {
        **facts,
        "as_of": as_of.isoformat(),
        "completed_at": utcnow().isoformat(),
        "tables": counts,
        "verification": {**checks, "passed": not _nonzero(checks)},
    }


# -- mail and users ---------------------------------------------------------------------------


def mail_steps(
    session: Session, as_of: datetime, addresses: Sequence[str], dealer_only: Sequence[str] = (), dealer_id: int | None = None
) -> list[Step]:
    """E-mails sent to the addresses are emptied (unsent ones once they are sent)."""
    from app.privacy.requests.erasure_rows import scrub_message

    if not addresses and not dealer_only:
        return []
    where = mail_unscrubbed(as_of, addresses, dealer_only, dealer_id)
    ids: list[int] = list(session.scalars(select(MailMessage.id).where(*where).order_by(MailMessage.id)))

    def run() -> None:
        note_rows(session, MailMessage, ids, ledger.ANONYMISED)
        for message_id in ids:
            message = session.get(MailMessage, message_id)
            assert message is not None
            scrub_message(message, as_of)
        session.flush()

    return [Step("mail_message", ANONYMISED, len(ids), run)]


def mail_unscrubbed(
    as_of: datetime, addresses: Sequence[str], dealer_only: Sequence[str] = (), dealer_id: int | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Mail to ``addresses``, or to ``dealer_only`` about one of the dealer's requests, not
    scrubbed yet; mail the ``mail_outbox`` sweep deletes at ``as_of`` is left to it."""
    to: ColumnElement[bool] = MailMessage.to_address.in_(list(addresses))
    if dealer_only:
        requests_of_dealer = select(PrivacyRequest.id).where(PrivacyRequest.dealer_id == dealer_id)
        to = or_(to, and_(MailMessage.to_address.in_(list(dealer_only)), MailMessage.request_id.in_(requests_of_dealer)))
    return (
        to,
        or_(MailMessage.sent_at.is_not(None), MailMessage.scrub_after_send.is_(False)),
        or_(MailMessage.sent_at.is_(None), MailMessage.sent_at >= mail_cutoff(as_of)),
    )


def mail_left(session: Session, as_of: datetime, addresses: list[str]) -> int:
    return rows(session, MailMessage, *mail_unscrubbed(as_of, addresses)) if addresses else 0


def addresses_left(session: Session, addresses: list[str], user_ids: list[int]) -> int:
    """Of these users, those who still have one of the addresses."""
    if not addresses or not user_ids:
        return 0
    return rows(session, DealerUser, DealerUser.id.in_(user_ids), DealerUser.email.in_(addresses))


def not_anonymised(session: Session, user_ids: list[int]) -> int:
    if not user_ids:
        return 0
    return rows(session, DealerUser, DealerUser.id.in_(user_ids), DealerUser.anonymised_at.is_(None))


# -- dealers and days -------------------------------------------------------------------------


def note_dealer(session: Session, dealer: Dealer) -> None:
    """The dealer row in the deletion ledger, with where its lifecycle stands (dates only),
    so that a replay after a restore puts a terminated dealer back on its schedule."""
    detail = {name: getattr(dealer, name) for name in LIFECYCLE_DATES}
    dealer_id: int = dealer.id  # type: ignore[assignment]  # untyped Column model
    note_rows(session, Dealer, [dealer_id], ledger.ANONYMISED, detail={"status": "terminated", **detail})


LIFECYCLE_DATES = ("terminated_at", "account_deletion_due_at", "account_deleted_at", "records_erasure_due_at", "records_erased_at")


def dealer_of(session: Session, dealer_id: int, lock: bool = False) -> Dealer:
    """``lock``: the row locked (and read afresh) until the commit, so that two runs of a
    step (the cron and a manual one) cannot both apply it."""
    dealer = session.get(Dealer, dealer_id, with_for_update=lock or None, populate_existing=lock)
    if dealer is None:
        raise DomainError(_l("There is no such dealer."))
    return dealer


def terminated_dealer(session: Session, dealer_id: int, lock: bool = False) -> Dealer:
    dealer = dealer_of(session, dealer_id, lock=lock)
    if dealer.status is not DealerStatus.terminated or dealer.terminated_at is None:
        raise DomainError(_l("This dealer account is not terminated."))
    return dealer


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def not_due(due_at: datetime | None, as_of: datetime) -> bool:
    return due_at is None or as_of < due_at


def day_text(value: datetime | None) -> str:
    from app.domain.formatting import format_date

    return format_date(value.date()) if value is not None else "—"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
