"""Deactivated users: ``deactivated_at`` follows ``active``, and a deactivated user (dealer or
internal) is anonymised ("Former user #id") ``USER_ANONYMISE_AFTER_DAYS`` later; records
they created stay linked to the account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, inspect, or_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.models import Dealer, DealerStatus, PageView
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.ledger import store as ledger
from app.privacy.ledger.rows import note_rows, reason
from app.privacy.lifecycle.steps import (
    ANONYMISED,
    Step,
    addresses_left,
    apply,
    certify,
    counts_of,
    delete_step,
    mail_left,
    mail_steps,
    not_anonymised,
    rows,
    start_of,
)
from app.privacy.lifecycle.sweeping import Counts, usage_log_cutoff

USER_EVENT = "user_anonymised"


def anonymise_delay() -> timedelta:
    return timedelta(days=int(current_app.config["USER_ANONYMISE_AFTER_DAYS"]))


def track_user_deactivation(session: Session) -> None:
    """Flush-time rule: ``deactivated_at`` is set when ``active`` turns False and cleared
    when it turns True again; a terminated dealer's users cannot be switched back on."""
    for user in list(session.new) + list(session.dirty):
        if not isinstance(user, DealerUser):
            continue
        if user not in session.new and not inspect(user).attrs.active.history.has_changes():
            continue
        if user.active is False:
            if user.deactivated_at is None:
                user.deactivated_at = utcnow()
        elif user.active:
            _refuse_user_of_terminated_dealer(session, user)
            user.deactivated_at = None  # type: ignore[assignment]  # untyped Column model


def _refuse_user_of_terminated_dealer(session: Session, user: DealerUser) -> None:
    dealer_id = user.dealer.id if user.dealer is not None else user.dealer_id
    if dealer_id is None:
        return
    with session.no_autoflush:
        dealer = session.get(Dealer, dealer_id)
    if dealer is not None and dealer.status is DealerStatus.terminated:
        raise DomainError(_l("This dealer account is terminated: its users cannot be active."), "active")


def users_due_for_anonymisation(session: Session, as_of: datetime) -> list[int]:
    """Users deactivated ``USER_ANONYMISE_AFTER_DAYS`` ago or more and not anonymised yet.

    Users of a terminated dealer whose account deletion is still pending are left to
    ``delete_account`` (which anonymises them), so that no user is counted twice.
    """
    pending: Select[Any] = select(Dealer.id).where(Dealer.status == DealerStatus.terminated, Dealer.account_deleted_at.is_(None))
    query = select(DealerUser.id).where(
        DealerUser.active.is_(False),
        DealerUser.deactivated_at.is_not(None),
        DealerUser.deactivated_at < _anonymise_before(as_of),
        DealerUser.anonymised_at.is_(None),
        or_(DealerUser.dealer_id.is_(None), DealerUser.dealer_id.not_in(pending)),
    )
    return list(session.scalars(query.order_by(DealerUser.id)))


def anonymise_user(session: Session, user_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """ "Former user #id": the account row anonymised, the user's page views deleted and
    the e-mails sent to them emptied; rows they created stay linked to the account.

    Refused before ``USER_ANONYMISE_AFTER_DAYS`` of deactivation; ``{}`` when already done.
    """
    # Locked for a real run: the cron and a manual run cannot both anonymise the user.
    user = session.get(DealerUser, user_id, with_for_update=None if dry_run else True, populate_existing=not dry_run)
    if user is None:
        raise DomainError(_l("There is no such user."))
    if user.anonymised_at is not None:
        return {}
    if user.active or user.deactivated_at is None or user.deactivated_at >= _anonymise_before(as_of):
        raise DomainError(
            _l("A user account is anonymised %(days)s days after it was deactivated, not before.", days=anonymise_delay().days)
        )
    addresses = [user.email] if user.email else []
    page_views = and_(PageView.user_id == user.id, PageView.viewed_at >= usage_log_cutoff(as_of))
    steps = mail_steps(session, as_of, addresses) + [
        delete_step(session, PageView, page_views),
        Step("ab_user", ANONYMISED, 1, lambda: anonymise_users(session, [user_id], as_of)),
    ]
    counts = counts_of(steps)
    if dry_run:
        return counts
    with reason(session, f"user_anonymised:{user_id}"):
        apply(steps)
    checks = {
        "user_not_anonymised": not_anonymised(session, [user_id]),
        "user_addresses_left": addresses_left(session, addresses, [user_id]),
        "mail_to_user_left": mail_left(session, as_of, addresses),
        "page_views_left": rows(session, PageView, page_views),
    }
    user = session.get(DealerUser, user_id)
    assert user is not None and user.deactivated_at is not None
    certify(
        session,
        USER_EVENT,
        as_of,
        counts,
        checks,
        dealer_id=user.dealer_id,
        user_id=user_id,
        deactivated_at=user.deactivated_at.isoformat(),
    )
    return counts


def anonymise_users(session: Session, user_ids: list[int], as_of: datetime) -> None:
    """The account rows anonymised ("Former user #id"), deactivated as of ``as_of`` if not yet."""
    from app.privacy.requests.erasure_rows import anonymise_user_row

    note_rows(session, DealerUser, user_ids, ledger.ANONYMISED)
    for user_id in user_ids:
        user = session.get(DealerUser, user_id)
        assert user is not None
        anonymise_user_row(user, as_of)
        if user.deactivated_at is None:
            user.deactivated_at = as_of
    session.flush()


def _anonymise_before(as_of: datetime) -> datetime:
    """Users deactivated before this are due: from 00:00 UTC of the
    ``USER_ANONYMISE_AFTER_DAYS``-th calendar day after the deactivation."""
    return start_of(as_of.astimezone(UTC).date() - anonymise_delay() + timedelta(days=1))
