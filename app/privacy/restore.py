"""After a database restore: ``replay_deletions`` re-applies the deletion ledger
(``flask forecourt replay-erasures``).

Every entry in the store (from ``since`` on) is looked up by its table and primary key and
applied only when the row there is the very row the entry was written for: the same keyed
hash of its natural identity (creation time, dealer, e-mail, phone, VIN, ...), created no
later than the entry. A row that arrived after the backup under a reused key, or that
shares a name with an erased person, is someone else's and is left alone. Replaying twice
changes nothing the second time; the replay writes no entries of its own.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.extensions import db
from app.models import Client, Dealer, DealerStatus
from app.models.base import utcnow
from app.models.rules import LIFECYCLE_FLAG
from app.privacy.ledger import store
from app.privacy.ledger.rows import created_column, identity_of, select_identities
from app.privacy.lifecycle.account_deletion import empty_profile, profile_left
from app.privacy.lifecycle.steps import LIFECYCLE_DATES
from app.privacy.registry import entry_for, mapped_models
from app.privacy.requests.erasure_rows import (
    ACTIONS,
    ANONYMISED,
    DELETED,
    KEPT,
    anonymise,
    anonymise_user_row,
    delete_rows,
    keep_restricted,
    pseudonymise_request,
    scrub_message,
)

log = logging.getLogger(__name__)
SKIPPED = "skipped"  # a row under the entry's key that is another row


def replay_deletions(since: str | date | datetime | None = None) -> dict[str, int]:
    """Re-apply the deletion ledger (from ``since`` on) to the rows a restored backup
    brought back; returns the rows changed per action, and how many rows found under an
    entry's key were someone else's (``skipped``)."""
    session = db.session
    start = parse_since(since)
    size = max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))
    counts: Counter[str] = Counter()
    placeholders: dict[int, Client] = {}
    session.info[LIFECYCLE_FLAG] = True  # a terminated dealer's rows are changed on its schedule: this is it
    try:
        for batch in store.read(since=start, batch=size):
            for entry in batch:
                outcome = _replay_one(session, entry, placeholders)
                if outcome:
                    counts[outcome] += 1
            session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.info.pop(LIFECYCLE_FLAG, None)
    log.info("replayed the deletion ledger: %s", dict(counts))
    return {action: counts[action] for action in (*ACTIONS, SKIPPED)}


def _model(table: str) -> Any:
    registered = entry_for(table)
    if registered is not None:
        return registered.model
    return next((m for m in mapped_models() if m.__tablename__ == table), None)


def _replay_one(session: Session, entry: store.LedgerEntry, placeholders: dict[int, Client]) -> str | None:
    model = _model(entry.table_name)
    if model is None:
        return None
    table = model.__table__
    (pk,) = table.primary_key.columns
    key = pk.type.python_type(entry.row_pk)
    session.flush()
    values = session.execute(select_identities(table, pk == key)).mappings().first()
    if values is None:
        return None  # gone (or never came back)
    created, identity = identity_of(table, values)
    if identity != entry.identity or (created is not None and _utc(table) and created > entry.at):
        # An anonymisation may have changed the identifiers: then it is the row, already done.
        return None if entry.action == ANONYMISED else SKIPPED
    row = session.get(model, key)
    return entry.action if _apply(session, model, row, entry, placeholders) else None


def _utc(table: Any) -> bool:
    """Is the creation column UTC (ours are; FAB's ``created_on`` is local time, and then
    only the identity, which includes it, tells)?"""
    name = created_column(table)
    return name is not None and bool(getattr(table.c[name].type, "timezone", False))


def _apply(session: Session, model: Any, row: Any, entry: store.LedgerEntry, placeholders: dict[int, Client]) -> bool:
    now = utcnow()
    table = entry.table_name
    if entry.action == DELETED:
        delete_rows(session, model, [row.id], record=False)
        placeholders.clear()
        return True
    if entry.action == ANONYMISED:
        if table == "dealer":
            return _dealer(session, row, entry)
        if table == "ab_user":
            return anonymise_user_row(row, now)
        if table == "mail_message":
            return scrub_message(row, now)
        if table == "privacy_request":
            return pseudonymise_request(row)
        registered = entry_for(table)
        return anonymise(session, registered, row, now, placeholders) if registered is not None else False
    if entry.action == KEPT:
        registered = entry_for(table)
        if registered is not None:
            return keep_restricted(session, registered, row, now, placeholders)
        if getattr(row, "restricted_at", False) is None:
            row.restricted_at = now
            return True
    return False


def _dealer(session: Session, dealer: Dealer, entry: store.LedgerEntry) -> bool:
    """The profile emptied again and the dealer back on its termination schedule."""
    changed = False
    if profile_left(dealer):
        empty_profile(session, dealer.id)  # type: ignore[arg-type]  # untyped Column model
        dealer = session.get(Dealer, dealer.id)  # type: ignore[assignment]
        changed = True
    detail = json.loads(entry.detail or "{}")
    values: dict[str, Any] = {}
    if detail.get("status") == "terminated" and dealer.status is not DealerStatus.terminated:
        values["status"] = DealerStatus.terminated
    for name in LIFECYCLE_DATES:
        if detail.get(name) and getattr(dealer, name) is None:
            values[name] = datetime.fromisoformat(detail[name]).replace(tzinfo=UTC)
    if values:
        session.execute(update(Dealer).where(Dealer.id == dealer.id).values(**values))
        session.expire_all()
        changed = True
    return changed


def parse_since(since: str | date | datetime | None) -> datetime | None:
    """``--since``: a date (from 00:00 UTC) or an ISO date-time (UTC unless it says)."""
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if not isinstance(since, date):
        text = str(since).strip()
        try:
            if len(text) > 10:
                parsed = datetime.fromisoformat(text)
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            since = date.fromisoformat(text)
        except ValueError:
            raise DomainError(_l("Give the date as YYYY-MM-DD."), "since")
    return datetime.combine(since, clock.min, tzinfo=UTC)
