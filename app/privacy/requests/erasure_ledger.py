"""The erasure ledger: one entry per row an erasure deleted, anonymised or kept, and its
replay after a backup restore (``flask forecourt replay-erasures``).

Entries name the table and primary key and carry the subject's keyed hash, never the
person's identifiers. ``replay_erasures`` re-applies them to the rows a restored backup
brought back.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain import DomainError
from app.extensions import db
from app.models import Client, ErasureLedgerEntry, PrivacyRequest
from app.models.base import utcnow
from app.privacy.registry import entry_for
from app.privacy.requests.erasure_rows import ACTIONS, ANONYMISED, DELETED, KEPT, anonymise, delete_rows, keep_restricted

log = logging.getLogger(__name__)


def add_ledger_entry(session: Session, request: PrivacyRequest, key: str, table: str, pk: object, action: str, now: datetime) -> None:
    """What the erasure did to one row (``key``: the subject's keyed hash, not the person)."""
    session.add(ErasureLedgerEntry(request_id=request.id, subject_key=key, table_name=table, row_pk=str(pk), action=action, at=now))


def is_ledgered(session: Session, request: PrivacyRequest, table: str, pk: object) -> bool:
    """Has this erasure already recorded the row?"""
    query: Select[Any] = select(ErasureLedgerEntry.id).where(
        ErasureLedgerEntry.request_id == request.id, ErasureLedgerEntry.table_name == table, ErasureLedgerEntry.row_pk == str(pk)
    )
    return session.scalar(query.limit(1)) is not None


def ledger_count(session: Session, request_id: int) -> int:
    return session.scalar(select(func.count()).where(ErasureLedgerEntry.request_id == request_id)) or 0


# -- replay after a backup restore -----------------------------------------------------


def replay_erasures(since: str | date | datetime | None = None) -> dict[str, int]:
    """Re-apply the erasure ledger (from ``since`` on): rows a restored backup brought
    back are deleted, anonymised or kept restricted again. Idempotent; returns how many
    rows were changed per action."""
    session = db.session
    start = _since(since)
    size = max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))
    counts: Counter[str] = Counter()
    placeholders: dict[int, Client] = {}
    after = 0
    while True:
        query = select(ErasureLedgerEntry).where(ErasureLedgerEntry.id > after)  # type: ignore[arg-type]  # untyped Column model
        if start is not None:
            query = query.where(ErasureLedgerEntry.at >= start)  # type: ignore[arg-type]  # untyped Column model
        ledger = session.scalars(query.order_by(ErasureLedgerEntry.id).limit(size)).all()
        if not ledger:
            break
        after = ledger[-1].id
        try:
            for item in [(e.table_name, e.row_pk, e.action, e.at) for e in ledger]:
                if _replay_one(session, *item, placeholders=placeholders):
                    counts[item[2]] += 1
            session.commit()
        except Exception:
            session.rollback()
            raise
    log.info("replayed the erasure ledger: %s", dict(counts))
    return {action: counts[action] for action in ACTIONS}


def _replay_one(session: Session, table: str, row_pk: str, action: str, erased_at: datetime, placeholders: dict[int, Client]) -> bool:
    entry = entry_for(table)
    if entry is None:
        return False
    row = session.get(entry.model, int(row_pk))
    if row is None or _created_after(row, erased_at):
        return False
    now = utcnow()
    if action == DELETED:
        session.flush()
        delete_rows(session, entry.model, [row.id])
        placeholders.clear()
        return True
    if action == ANONYMISED:
        return anonymise(session, entry, row, now, placeholders)
    if action == KEPT:
        return keep_restricted(session, entry, row, now, placeholders)
    return False


# When a row was created, per table: the first of these columns it has.
CREATED_COLUMNS = ("created_at", "created_on", "received_at", "registration_date", "changed_at")


def _created_after(row: Any, erased_at: datetime) -> bool:
    """A row created after the erasure is another row under a reused primary key (SQLite
    reuses the highest id; a restored PostgreSQL sequence hands out ids again): leave it."""
    for name in CREATED_COLUMNS:
        created = getattr(row, name, None)
        if isinstance(created, datetime):
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            return created > erased_at
    return False


def _since(since: str | date | datetime | None) -> datetime | None:
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if not isinstance(since, date):
        try:
            since = date.fromisoformat(str(since).strip())
        except ValueError:
            raise DomainError(_l("Give the date as YYYY-MM-DD."), "since")
    return datetime.combine(since, clock.min, tzinfo=UTC)
