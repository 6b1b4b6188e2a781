"""The verification scan after an erasure: is any of the person's identifiers left?

``scan_registered`` searches every registered personal text column (what the registry
says can hold personal data), within the request's scope; an erasure completes only
when it finds nothing. ``scan_all_text_columns`` searches every text and JSON column of
every table, registered or not (tests use it; the officer may too). Both return counts
per table, never the values found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import JSON, String, Text, cast, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.declarations import KEEP
from app.privacy.registry import Entry, entries

Exclude = Mapping[str, Iterable[int]]


def scan_registered(
    session: Session, identifiers: Iterable[str], dealer_id: int | None = None, exclude: Exclude | None = None
) -> dict[str, int]:
    """Rows per registered table whose personal columns contain one of the identifiers.

    ``dealer_id`` limits the scan to one dealer's rows (a dealer-scoped erasure: the same
    address at another dealer is another controller's data). Columns the declaration
    keeps on purpose (``KEEP``) are not searched. ``exclude`` maps a table to primary
    keys left out (the request's own row until it is pseudonymised).
    """
    needles = _needles(identifiers)
    hits: dict[str, int] = {}
    if not needles:
        return hits
    for entry in entries():
        columns = [entry.model.__table__.c[name] for name, how in entry.declaration.personal.items() if how != KEEP]
        columns = [c for c in columns if _is_text(c)]
        if not columns:
            continue
        scope = _scope_clause(entry, dealer_id)
        if scope is None:
            continue
        count = _count(session, entry.model.__table__, columns, needles, (exclude or {}).get(entry.table), scope)
        if count:
            hits[entry.table] = count
    return hits


def scan_all_text_columns(session: Session, identifiers: Iterable[str], exclude: Exclude | None = None) -> dict[str, int]:
    """Rows per table, in every table of the schema, with an identifier in any text column."""
    from app.extensions import db

    needles = _needles(identifiers)
    hits: dict[str, int] = {}
    if not needles:
        return hits
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if _is_text(c)]
        if not columns:
            continue
        count = _count(session, table, columns, needles, (exclude or {}).get(table.name), None)
        if count:
            hits[table.name] = count
    return hits


def scanned_columns() -> dict[str, list[str]]:
    """The columns ``scan_registered`` searches, per table (for the certificate)."""
    found = {}
    for entry in entries():
        names = [n for n, how in entry.declaration.personal.items() if how != KEEP and _is_text(entry.model.__table__.c[n])]
        if names:
            found[entry.table] = names
    return found


def _needles(identifiers: Iterable[str]) -> list[str]:
    """Lower-case search strings; a JSON column stores non-ASCII text escaped, so the
    escaped form is searched too."""
    needles: list[str] = []
    for value in identifiers:
        value = (value or "").strip().lower()
        if not value:
            continue
        for form in (value, json.dumps(value)[1:-1]):
            if form not in needles:
                needles.append(form)
    return needles


def _is_text(column) -> bool:
    kind = getattr(column.type, "impl", column.type)
    return isinstance(kind, (String, Text, JSON))


def _count(session: Session, table, columns, needles: list[str], excluded, scope) -> int:
    matches = [func.lower(cast(column, Text)).contains(needle, autoescape=True) for column in columns for needle in needles]
    query = select(func.count()).select_from(table).where(or_(*matches))
    if scope is not None:
        query = query.where(scope)
    excluded = list(excluded or ())
    if excluded:
        (pk,) = table.primary_key.columns
        query = query.where(pk.not_in(excluded))
    return session.scalar(query) or 0


def _scope_clause(entry: Entry, dealer_id: int | None):
    """The rows of one dealer in this table (None: nothing of this table is in scope)."""
    from app.models import Client, PrivacyRequest

    d, model = entry.declaration, entry.model
    if dealer_id is None:
        return true()  # everything
    if d.platform_only:
        return None
    if d.scope_column:
        return getattr(model, d.scope_column) == dealer_id
    if d.request_column:
        in_scope: Select[int] = select(PrivacyRequest.id).where(PrivacyRequest.dealer_id == dealer_id)
        return getattr(model, d.request_column).in_(in_scope)
    if d.client_column:
        in_scope = select(Client.id).where(Client.dealer_id == dealer_id)
        return getattr(model, d.client_column).in_(in_scope)
    return true()
