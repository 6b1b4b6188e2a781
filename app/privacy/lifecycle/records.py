"""The end of a dealer account, step 3: ``BUSINESS_RECORD_YEARS`` after the termination,
``erase_business_records``.

Every remaining row the dealer owns is deleted (the account data too, should day 30 not
have run). The emptied dealer row stays as a tombstone ("Terminated dealer #id"): privacy
requests, breach notices and anonymised users keep pointing at it, so a dealer's request
never turns into a platform-wide one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.models import Dealer, DealerStatus, PageView
from app.privacy.ledger.rows import reason
from app.privacy.lifecycle.account_deletion import KEPT_AFTER_ERASURE, AccountPlan, owned_by_dealer
from app.privacy.lifecycle.steps import (
    DELETED,
    Step,
    apply,
    certify,
    counts_of,
    day_text,
    delete_step,
    iso,
    not_due,
    note_dealer,
    rows,
    terminated_dealer,
)
from app.privacy.lifecycle.sweeping import Counts, usage_log_cutoff

log = logging.getLogger(__name__)

ERASED_EVENT = "business_records_erased"


def records_due_for_erasure(session: Session, as_of: datetime) -> list[int]:
    query: Select[Any] = select(Dealer.id).where(
        Dealer.status == DealerStatus.terminated,
        Dealer.records_erased_at.is_(None),
        Dealer.records_erasure_due_at <= as_of,  # type: ignore[arg-type]  # untyped Column model
    )
    return list(session.scalars(query.order_by(Dealer.id)))


def erase_business_records(session: Session, dealer_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """Three years after termination: every row the dealer still owns is deleted (the
    account data too, should day 30 not have run). The emptied dealer row stays as a
    tombstone for the privacy requests, breach notices and events that point at it."""
    dealer = terminated_dealer(session, dealer_id, lock=not dry_run)
    if dealer.records_erased_at is not None:
        return {}
    if not_due(dealer.records_erasure_due_at, as_of):
        raise DomainError(_l("The business records are erased on %(date)s, not before.", date=day_text(dealer.records_erasure_due_at)))
    account = AccountPlan.of(session, dealer, as_of) if dealer.account_deleted_at is None else None
    steps = account.steps(restrict=False) if account is not None else []
    steps += _records_steps(session, dealer.id, as_of, skip={s.table for s in steps if s.action == DELETED})
    counts = counts_of(steps)
    if dry_run:
        return counts
    with reason(session, f"records_erased:{dealer_id}"):
        apply(steps)
        dealer = session.get(Dealer, dealer_id)
        dealer.records_erased_at = as_of
        if dealer.account_deleted_at is None:
            dealer.account_deleted_at = as_of
        note_dealer(session, dealer)
    checks = {"rows_left": {model.__tablename__: rows(session, model, _owned(model, dealer_id, as_of)) for model in erased_models()}}
    if account is not None:
        checks.update(account.verify())
    certify(session, ERASED_EVENT, as_of, counts, checks, dealer_id=dealer_id, terminated_at=iso(dealer.terminated_at))
    log.info("business records of dealer %s erased: %s", dealer_id, counts)
    return counts


def erased_models() -> list[Any]:
    """Dealer-owned models erased after ``BUSINESS_RECORD_YEARS``, children before parents."""
    from app.extensions import db
    from app.privacy.requests.export_parts import account_tables

    models: list[Any] = list(account_tables())
    owned = {m.__tablename__: m for m in models if owned_by_dealer(m) and m.__tablename__ not in KEPT_AFTER_ERASURE}
    order = [t.name for t in db.metadata.sorted_tables]
    return [owned[name] for name in reversed(order) if name in owned]


def _records_steps(session: Session, dealer_id: int, as_of: datetime, skip: set[str]) -> list[Step]:
    steps: list[Step] = []
    for model in erased_models():
        if model.__tablename__ in skip:
            continue
        steps.append(delete_step(session, model, _owned(model, dealer_id, as_of)))  # photos' files too (delete_rows)
    return steps


def _owned(model: Any, dealer_id: int, as_of: datetime) -> Any:
    """The dealer's rows of ``model``; page views past their retention are ``usage_log``'s."""
    if model is PageView:
        return and_(PageView.dealer_id == dealer_id, PageView.viewed_at >= usage_log_cutoff(as_of))  # type: ignore[arg-type]  # untyped Column model
    return model.dealer_id == dealer_id
