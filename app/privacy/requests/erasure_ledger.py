"""The erasure ledger in the database: one entry per row an erasure deleted, anonymised or
kept, for the erasure's progress (a resumed job skips what it recorded) and its certificate.

Entries name the table and primary key and carry the subject's keyed hash, never the
person's identifiers. What a backup restore needs is in the deletion ledger outside the
database (``app.privacy.ledger``), which ``app.privacy.restore`` replays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.models import ErasureLedgerEntry, PrivacyRequest


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
