"""Ledger entries for rows: each row identified by a keyed hash of its table, key, creation
time, dealer and natural identifiers (e-mail, phone, VIN, stock or deal number, ...), and
the entries of a transaction written to the store just before it commits.

The callers that delete, anonymise or restrict rows ``note`` them first (before the change:
the identity is that of the row a backup holds); ``write_before_commit`` and
``forget_after_rollback`` are session hooks (``app.model_events``). The store is written
first: a crash between the two leaves an entry for a deletion that did not commit, which a
replay applies to a row that was due anyway, never a committed deletion without an entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import Session

from app.privacy.ledger import store

PENDING_KEY = "deletion_ledger.pending"
REASON_KEY = "deletion_ledger.reason"
# What identifies a row besides its creation time and dealer: stable identifiers only.
NATURAL: dict[str, tuple[str, ...]] = {
    "ab_register_user": ("email",),
    "car": ("vin", "stock_number"),
    "car_photo": ("file_path",),
    "client": ("email", "phone"),
    "consent_record": ("email", "purpose", "action"),
    "dealer_social_link": ("platform", "url"),
    "disclosure": ("recipient",),
    "inquiry": ("email", "phone"),
    "mail_message": ("kind", "to_address"),
    "page_view": ("user_id", "path"),
    "privacy_request": ("reference",),
    "sale": ("deal_number",),
}
SCOPE_COLUMNS = ("dealer_id",)
# A row's creation time: the first of these columns its table has (none: identifiers only).
CREATED_COLUMNS = (
    "created_at",
    "created_on",
    "registration_date",
    "received_at",
    "recorded_at",
    "viewed_at",
    "changed_at",
    "occurred_at",
    "notified_at",
    "at",
)
# Tables whose rows are never recorded: the in-database erasure ledger itself.
NOT_RECORDED = frozenset({"erasure_ledger"})


def ledger_key() -> bytes:
    return str(current_app.config.get("PRIVACY_LEDGER_KEY") or current_app.config["SECRET_KEY"]).encode()


def keyed_hash(text: str) -> str:
    return hmac.new(ledger_key(), text.encode(), hashlib.sha256).hexdigest()


def created_column(table: Table) -> str | None:
    return next((name for name in CREATED_COLUMNS if name in table.c), None)


def identity_columns(table: Table) -> list[str]:
    """The columns a row's identity is computed from (primary key first)."""
    (pk,) = table.primary_key.columns
    names = [pk.name]
    created = created_column(table)
    if created:
        names.append(created)
    names += [n for n in SCOPE_COLUMNS + NATURAL.get(table.name, ()) if n in table.c and n not in names]
    return names


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return store.time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))  # enums by value


def identity_of(table: Table, values: Mapping[str, Any] | Any) -> tuple[str | None, str]:
    """(creation time, keyed hash of the identity) of a row given its identity columns."""
    names = identity_columns(table)
    created = created_column(table)
    parts = [table.name] + [f"{name}={_text(values[name])}" for name in names]
    return (_text(values[created]) if created else None), keyed_hash("|".join(parts))


def select_identities(table: Table, where: ColumnElement[bool]):
    return select(*(table.c[name] for name in identity_columns(table))).where(where)


def note_rows(
    session: Session,
    model: Any,
    rows: Collection[int] | ColumnElement[bool],
    action: str,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Record ``action`` for ``model``'s rows (primary keys or a WHERE clause) as they are
    now; written to the store when the session commits. Returns how many were noted."""
    table: Table = model.__table__
    if table.name in NOT_RECORDED or (not isinstance(rows, ColumnElement) and not rows):
        return 0
    session.flush()
    (pk,) = table.primary_key.columns
    where = rows if isinstance(rows, ColumnElement) else pk.in_(list(rows))
    at, reason = store.now_text(), session.info.get(REASON_KEY, "")
    extra = json.dumps(dict(detail), sort_keys=True, default=_text) if detail else None
    found = []
    for values in session.execute(select_identities(table, where)).mappings():
        created, identity = identity_of(table, values)
        found.append(
            store.LedgerEntry(
                at=at,
                action=action,
                table_name=table.name,
                row_pk=_text(values[pk.name]),
                identity=identity,
                row_created=created,
                subject=subject,
                reason=reason,
                detail=extra,
            )
        )
    session.info.setdefault(PENDING_KEY, []).extend(found)
    return len(found)


@contextmanager
def reason(session: Session, text: str) -> Iterator[None]:
    """What the entries noted meanwhile are for (``erasure``, ``account_deleted``, ``sweep:inquiries``)."""
    before = session.info.get(REASON_KEY)
    session.info[REASON_KEY] = text[:40]
    try:
        yield
    finally:
        if before is None:
            session.info.pop(REASON_KEY, None)
        else:
            session.info[REASON_KEY] = before


def write_before_commit(session: Session) -> None:
    """Session ``before_commit`` hook: the transaction's entries go to the store first; if
    that fails, the commit fails and the deletions roll back."""
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        store.append(pending)


def forget_after_rollback(session: Session, *args: Any) -> None:
    session.info.pop(PENDING_KEY, None)
