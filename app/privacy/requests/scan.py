"""The verification scan after an erasure: is any of the person's identifiers left?

It searches every text and JSON column of every table, whether the registry declares
it personal or not (``text_columns``), for the subject's exact identifiers, with the
matching rule of ``subjects`` (the rule that found the rows): ``find_identifiers``
counts rows per ``table.column``. Rows that only share the person's name are another
question: ``find_lookalikes`` lists them, for the privacy officer to judge. A
dealer-scoped request scans that dealer's rows only (the same address at another dealer
is another controller's data): a table's rows are the dealer's by its declaration, its
``dealer_id``, or a foreign key to a table with one; a table with none of these holds
platform data and is out of a dealer's scope. Results are counts, table, column and
row ids, never the values found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import JSON, ColumnElement, String, Table, Text, and_, cast, false, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.declarations import KEEP
from app.privacy.registry import Entry, entry_for
from app.privacy.requests.subjects import PHONE_SEPARATORS, Subject, email_needles, json_forms, name_parts, phone_needles

Exclude = Mapping[str, Iterable[int]]

# Bookkeeping columns the scan skips: each holds a hash or a random token, never an
# identifier in clear (so an exact identifier cannot be in it), and its random letters
# would make name look-alikes of people whose name is short.
BOOKKEEPING_COLUMNS = {
    "ab_user.password": "a password hash",
    "ab_register_user.password": "a password hash",
    "ab_register_user.registration_hash": "a random token",
    "ab_api_key.key_hash": "a key hash",
    "ab_api_key.lookup_hash": "a key hash",
    "ab_api_key.uuid": "a random id",
    "erasure_ledger.subject_key": "a keyed hash",
    "privacy_request.subject_key": "a keyed hash",
    "privacy_request.export_sha256": "a checksum of a file",
}
# At most this many possible other people are listed per scan.
MAX_LOOKALIKES = 100


@dataclass(frozen=True)
class Lookalike:
    """A row that holds every part of the person's name and none of their identifiers."""

    table: str
    pk: int
    columns: tuple[str, ...]


def text_columns() -> dict[Table, list]:
    """Every text and JSON column of every table, but the bookkeeping ones."""
    from app.extensions import db

    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if _is_text(c) and f"{table.name}.{c.name}" not in BOOKKEEPING_COLUMNS]
        if columns:
            found[table] = columns
    return found


def scanned_columns() -> dict[str, list[str]]:
    """The columns the verification searches, per table (for the certificate)."""
    return {table.name: [c.name for c in columns] for table, columns in text_columns().items()}


def is_declared_personal(table: str, column: str) -> bool:
    entry = entry_for(table)
    return entry is not None and column in entry.declaration.personal


def is_kept_on_purpose(table: str, column: str) -> bool:
    """A personal column the declaration keeps, with its reason (a dealer's own address)."""
    entry = entry_for(table)
    return entry is not None and entry.declaration.personal.get(column) == KEEP


@dataclass
class Hits:
    """Rows holding an identifier, per table, and per ``table.column``."""

    tables: dict[str, int] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tables)


def find_identifiers(session: Session, subject: Subject, exclude: Exclude | None = None, kept: bool = False) -> Hits:
    """The rows in scope holding one of the subject's exact identifiers.

    Columns a declaration keeps on purpose (``KEEP``: a dealer's own business address)
    are searched only with ``kept`` (and then only they). ``exclude`` maps a table to
    primary keys left out (the request's own row and mails until the final step)."""
    hits = Hits()
    emails, phones = email_needles(subject), phone_needles(subject)
    if not emails and not phones:
        return hits
    for table, columns in text_columns().items():
        columns = [c for c in columns if is_kept_on_purpose(table.name, c.name) is kept]
        scope = table_scope(table, subject.dealer_id)
        if not columns or scope is None:
            continue
        excluded = _excluded(table, exclude)
        matches = {c.name: _exact_match(c, emails, phones) for c in columns}
        rows = _count(session, table, or_(*matches.values()), scope, excluded)
        if not rows:
            continue
        hits.tables[table.name] = rows
        for name, match in matches.items():  # which columns: one more query each, only here
            count = _count(session, table, match, scope, excluded)
            if count:
                hits.columns[f"{table.name}.{name}"] = count
    return hits


def find_lookalikes(session: Session, subject: Subject, exclude: Exclude | None = None, limit: int = MAX_LOOKALIKES) -> list[Lookalike]:
    """Rows in scope whose text holds every part of the subject's name (in any columns but
    those a declaration keeps on purpose: a kept sale's buyer name is the erased person's)."""
    parts = name_parts(subject)
    found: list[Lookalike] = []
    if not parts:
        return found
    for table, columns in text_columns().items():
        columns = [c for c in columns if not is_kept_on_purpose(table.name, c.name)]
        if not columns:
            continue
        scope = table_scope(table, subject.dealer_id)
        if scope is None or len(table.primary_key.columns) != 1 or len(found) >= limit:
            continue
        (pk,) = table.primary_key.columns
        every_part = and_(*[or_(*[_contains(c, form) for c in columns for form in json_forms(part)]) for part in parts])
        query = select(pk, *columns).where(every_part, scope)
        excluded = _excluded(table, exclude)
        if excluded:
            query = query.where(pk.not_in(excluded))
        for row in session.execute(query.order_by(pk).limit(limit - len(found))):
            values = dict(zip([c.name for c in columns], row[1:]))
            matched = tuple(name for name, value in values.items() if _holds_any(value, parts))
            found.append(Lookalike(table.name, row[0], matched))
    return found


def scan_all_text_columns(session: Session, identifiers: Iterable[str], exclude: Exclude | None = None) -> dict[str, int]:
    """Rows per table, in every table, with any of these strings in a text column (plain
    containment, whole platform: for tests and the officer's own checks)."""
    needles = [form for value in identifiers if (value or "").strip() for form in json_forms((value or "").strip().lower())]
    hits: dict[str, int] = {}
    if not needles:
        return hits
    for table, columns in text_columns().items():
        match = or_(*[_contains(c, needle) for c in columns for needle in needles])
        count = _count(session, table, match, true(), _excluded(table, exclude))
        if count:
            hits[table.name] = count
    return hits


def table_scope(table: Table, dealer_id: int | None) -> ColumnElement[bool] | None:
    """The rows of one dealer in this table (None: nothing of this table is in scope)."""
    if dealer_id is None:
        return true()  # everything
    entry = entry_for(table.name)
    if entry is not None:
        return _declared_scope(entry, dealer_id)
    if "dealer_id" in table.c:
        return table.c.dealer_id == dealer_id
    for fk in table.foreign_keys:
        parent = fk.column.table
        if "dealer_id" in parent.c and len(parent.primary_key.columns) == 1:
            return fk.parent.in_(select(fk.column).where(parent.c.dealer_id == dealer_id))
    return None  # platform data: no dealer's


def _declared_scope(entry: Entry, dealer_id: int) -> ColumnElement[bool] | None:
    from app.models import Client, PrivacyRequest

    d, model = entry.declaration, entry.model
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


def holds_identifier(column, subject: Subject) -> ColumnElement[bool]:
    """``column`` holds one of the subject's exact identifiers (the scan's own rule)."""
    emails, phones = email_needles(subject), phone_needles(subject)
    return _exact_match(column, emails, phones) if emails or phones else false()


def _is_text(column) -> bool:
    kind = getattr(column.type, "impl", column.type)
    return isinstance(kind, (String, Text, JSON))


def _lowered(column) -> ColumnElement[str]:
    return func.lower(cast(column, Text))


def _contains(column, needle: str) -> ColumnElement[bool]:
    return _lowered(column).contains(needle, autoescape=True)


def _without_separators(column) -> ColumnElement[str]:
    text = _lowered(column)
    for separator in PHONE_SEPARATORS:
        text = func.replace(text, separator, "")
    return text


def _exact_match(column, emails: list[str], phones: list[str]) -> ColumnElement[bool]:
    clauses = [_contains(column, email) for email in emails]
    clauses += [_without_separators(column).contains(digits, autoescape=True) for digits in phones]
    return or_(*clauses)


def _holds_any(value, parts: list[str]) -> bool:
    text = str(value or "").lower()
    return any(form in text for part in parts for form in json_forms(part))


def _excluded(table: Table, exclude: Exclude | None) -> list[int]:
    return list((exclude or {}).get(table.name) or ())


def _count(session: Session, table: Table, match: ColumnElement[bool], scope: ColumnElement[bool], excluded: list[int]) -> int:
    query = select(func.count()).select_from(table).where(match, scope)
    if excluded:
        (pk,) = table.primary_key.columns
        query = query.where(pk.not_in(excluded))
    return session.scalar(query) or 0
