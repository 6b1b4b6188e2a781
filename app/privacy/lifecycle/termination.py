"""The end of a dealer account, step 1: termination.

The dealer is terminated and every one of its users deactivated at once; an account export
is made for its admins, downloadable until day 30 (``ACCOUNT_DELETION_AFTER_DAYS``); each
admin is told in their language what happens when: day 30's deletion of the account data
(``account_deletion``) and the erasure of the business records after
``BUSINESS_RECORD_YEARS`` (``records``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail import notices
from app.mail.audience import is_dealer_admin, user_language, users_of
from app.models import DealerStatus, RetentionEvent
from app.models.base import utcnow
from app.privacy.lifecycle.account_export import export_in_progress, file_export
from app.privacy.lifecycle.steps import dealer_of, start_of

log = logging.getLogger(__name__)

TERMINATED_EVENT = "account_terminated"


def deletion_delay() -> timedelta:
    return timedelta(days=int(current_app.config["ACCOUNT_DELETION_AFTER_DAYS"]))


def record_years() -> int:
    return int(current_app.config["BUSINESS_RECORD_YEARS"])


def terminate_dealer(
    session: Session, dealer_id: int, actor_id: int | None, reason: str | None, now: datetime | None = None
) -> RetentionEvent:
    """Terminate the dealer's account: users deactivated at once, the account export made
    for its admins (downloadable until day 30), the admins told what happens when.

    A dealer admin of the dealer or internal staff acts (the caller checks who); a
    terminated dealer cannot be terminated again.
    """
    now = now or utcnow()
    dealer = dealer_of(session, dealer_id, lock=True)
    if dealer.status is DealerStatus.terminated:
        raise DomainError(_l("This dealer account is already terminated."))
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 500:
        raise DomainError(_l("Keep the reason under 500 characters."), "reason")
    users = users_of(session, dealer_id)
    admins = [u for u in users if u.active and u.email and u.anonymised_at is None and is_dealer_admin(u)]
    by_own_admin = any(u.id == actor_id for u in admins)
    export = export_in_progress(session, dealer_id)
    if export is None and admins:
        owner = next((u for u in admins if u.id == actor_id), admins[0])
        export = file_export(session, dealer, owner, actor_id, now)

    dealer.status = DealerStatus.terminated  # type: ignore[assignment]  # untyped Column model
    dealer.terminated_at = now  # type: ignore[assignment]  # untyped Column model
    dealer.termination_reason = reason  # type: ignore[assignment]  # untyped Column model
    # Due from 00:00 UTC of the due day, so that day's cron run (and ``--as-of <day>``) finds it.
    today = now.astimezone(UTC).date()
    dealer.account_deletion_due_at = start_of(today + deletion_delay())  # type: ignore[assignment]  # untyped Column model
    dealer.records_erasure_due_at = start_of(today + relativedelta(years=record_years()))  # type: ignore[assignment]  # untyped Column model
    deactivated = 0
    for user in users:
        if user.active:
            user.active = False
            user.deactivated_at = now  # type: ignore[assignment]  # untyped Column model
            deactivated += 1

    recipients = [(u.email, user_language(u)) for u in admins] or ([(dealer.email, "en")] if dealer.email else [])
    for address, language in recipients:
        notices.queue_notice(
            session,
            "account_terminated",
            to=address,
            language=language,
            dealer_name=dealer.business_name,
            terminated_at=now,
            deletion_at=dealer.account_deletion_due_at,
            erasure_at=dealer.records_erasure_due_at,
            reason=None if by_own_admin else reason,
            export_requested=export is not None,
        )
    summary = {"ab_user": {"deactivated": deactivated}}
    if export is not None:
        summary["privacy_request"] = {"account_export": 1}
    if recipients:
        summary["mail_message"] = {"queued": len(recipients)}
    event = RetentionEvent(
        kind=TERMINATED_EVENT,
        dealer_id=dealer.id,
        as_of=now,
        occurred_at=utcnow(),
        dry_run=False,
        actor_id=actor_id,
        summary=summary,
        certificate={
            "dealer_id": dealer.id,
            "terminated_at": now.isoformat(),
            "requested_by": "dealer_admin" if by_own_admin else "staff",
            "users_deactivated": deactivated,
            "account_deletion_due_at": dealer.account_deletion_due_at.isoformat(),
            "records_erasure_due_at": dealer.records_erasure_due_at.isoformat(),
            "account_export": export.reference if export is not None else None,
            "admins_notified": len(recipients),
        },
    )
    session.add(event)
    log.info("dealer %s terminated: %d user(s) deactivated", dealer.id, deactivated)
    return event


def account_events(session: Session, dealer_id: int) -> list[RetentionEvent]:
    """The retention events of one dealer account, oldest first."""
    query = select(RetentionEvent).where(RetentionEvent.dealer_id == dealer_id, RetentionEvent.kind != "sweep")
    return list(session.scalars(query.order_by(RetentionEvent.occurred_at, RetentionEvent.id)))
