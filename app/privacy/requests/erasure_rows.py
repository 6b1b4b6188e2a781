"""What an erasure does to one row: delete it, anonymise it, or keep it restricted.

The privacy registry's declaration of the row's table decides (``action_for``). Business
records younger than their ``business_record_years`` (sales) are kept, restricted, and
point at a per-dealer anonymised placeholder client until the period ends. The erasure
job, its preview, the ledger replay and the retention sweeps all use these rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_appbuilder import Model
from sqlalchemy import ColumnElement, delete, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE
from werkzeug.security import generate_password_hash

from app.domain.declarations import BY_RECORD, KEEP, NULL, PLACEHOLDER
from app.extensions import db
from app.models import OPEN_STATUSES, Client, ClientSource, MailMessage, PrivacyRequest
from app.models.base import utcnow
from app.privacy.files import remove_files_of_rows
from app.privacy.history import forget_fields, forget_records
from app.privacy.ledger.rows import note_rows
from app.privacy.ledger.store import ACTIONS, ANONYMISED, DELETED, KEPT
from app.privacy.registry import Entry
from app.privacy.requests.subjects import mask, subject_key

__all__ = ["ACTIONS", "ANONYMISED", "DELETED", "KEPT"]  # the deletion ledger's actions, one home
ERASED = "[erased]"
BATCH_READ = 500  # rows read at a time when counting
# What a pseudonymised request keeps: subject_key (keyed hash) and subject_hint (masked).
REQUEST_IDENTIFIERS = ("subject_email", "subject_phone", "subject_name", "details", "rectification_proposal")


def action_for(entry: Entry, row: Any, request: PrivacyRequest, today: date, final: bool = False) -> str | None:
    """delete / anonymise / keep, or None: left alone (now, or until the final step when
    ``final`` is False: the request itself and its own e-mails)."""
    d = entry.declaration
    if BY_RECORD in d.find:
        return None  # the change history goes with its records (``delete_rows``, ``forget_anonymised_history``)
    if entry.table == "privacy_request":
        if row.id == request.id:
            return ANONYMISED if final else None
        if row.status in OPEN_STATUSES:
            return None  # another request being answered: the preview warns about it
        return ANONYMISED if any(getattr(row, c) is not None for c in REQUEST_IDENTIFIERS) else None
    if entry.table == "mail_message" and row.request_id == request.id:
        return ANONYMISED if final else None  # scrubbed in the final step
    until = keep_until(entry, row)
    if until is not None:  # a business record
        return KEPT if until > today else DELETED
    if d.deletes_rows:
        return DELETED
    if all(how == KEEP for how in d.personal.values()):
        return KEPT
    return ANONYMISED if _needs_anonymising(entry, row) else None


def is_business_record(entry: Entry) -> bool:
    d = entry.declaration
    return bool(d.business_record_years and d.record_date_column)


def keep_until(entry: Entry, row: Any) -> date | None:
    """Until when a business record is kept; None: not a business record."""
    d = entry.declaration
    if not d.business_record_years or not d.record_date_column:
        return None
    recorded = getattr(row, d.record_date_column)
    if isinstance(recorded, datetime):
        recorded = recorded.date()
    return recorded + relativedelta(years=d.business_record_years)


def _needs_anonymising(entry: Entry, row: Any) -> bool:
    if entry.table == "ab_user":
        return row.username != f"former-user-{row.id}" or bool(row.active)
    return any(getattr(row, name) != _blank(entry, name) for name in _anonymised_columns(entry))


def _anonymised_columns(entry: Entry) -> list[str]:
    return [name for name, how in entry.declaration.personal.items() if how in (NULL, PLACEHOLDER)]


def _blank(entry: Entry, name: str) -> str | None:
    column = entry.model.__table__.c[name]
    return None if column.nullable else ERASED


def forget_anonymised_history(session: Session, entry: Entry, ids: Collection[int]) -> None:
    """The history of the personal columns of rows anonymised or kept by an erasure: their
    old values are what was erased (call after the flush that recorded the change)."""
    forget_fields(session, entry.table, ids, entry.declaration.personal)


def anonymise(session: Session, entry: Entry, row: Any, now: datetime, placeholders: dict[int, Client]) -> bool:
    """Apply the declaration's anonymisation; True when something changed."""
    if entry.table == "privacy_request":
        return pseudonymise_request(row)
    if entry.table == "ab_user":
        return anonymise_user_row(row, now)
    if entry.table == "mail_message":
        return scrub_message(row, now)
    if is_business_record(entry):
        return keep_restricted(session, entry, row, now, placeholders)
    changed = False
    for name in _anonymised_columns(entry):
        column = entry.model.__table__.c[name]
        blank = _blank(entry, name)
        # a NOT NULL column that is not text has no neutral value: left to a special case
        if (column.nullable or isinstance(getattr(row, name), str)) and getattr(row, name) != blank:
            setattr(row, name, blank)
            changed = True
    return changed


def pseudonymise_request(request: PrivacyRequest) -> bool:
    if all(getattr(request, c) is None for c in REQUEST_IDENTIFIERS):
        return False
    if request.subject_key is None:
        request.subject_key = subject_key(request.subject_email, request.subject_phone)
    if request.subject_hint is None:
        request.subject_hint = mask(request.subject_email or request.subject_phone)
    for column in REQUEST_IDENTIFIERS:
        setattr(request, column, None)
    return True


def anonymise_user_row(user, now: datetime | None = None) -> bool:
    """ "Former user #id": the one implementation for erasures and the retention of
    deactivated accounts. Rows the user created keep pointing at the account."""
    if user.username == f"former-user-{user.id}" and not user.active:
        if user.anonymised_at is None:
            user.anonymised_at = now or utcnow()
            return True
        return False
    user.anonymised_at = now or utcnow()
    user.first_name = "Former"
    user.last_name = f"user #{user.id}"
    user.username = f"former-user-{user.id}"
    user.email = f"former-user-{user.id}@invalid"
    user.active = False
    user.password = generate_password_hash(secrets.token_urlsafe(32))  # nobody knows it
    return True


def scrub_message(message: MailMessage, now: datetime) -> bool:
    """A sent message is emptied now; an unsent one is emptied once it is sent."""
    if message.sent_at is None:
        changed = not message.scrub_after_send
        message.scrub_after_send = True
        return changed
    if message.scrubbed_at is not None and message.to_address is None:
        return False
    message.to_address = None  # type: ignore[assignment]  # untyped Column model
    message.subject = ERASED  # type: ignore[assignment]  # untyped Column model
    message.body_text = ERASED  # type: ignore[assignment]  # untyped Column model
    message.body_html = None  # type: ignore[assignment]  # untyped Column model
    message.scrub_after_send = True  # type: ignore[assignment]  # untyped Column model
    message.scrubbed_at = now  # type: ignore[assignment]  # untyped Column model
    return True


def keep_restricted(session: Session, entry: Entry, row: Any, now: datetime, placeholders: dict[int, Client]) -> bool:
    """Keep a row, restricted; a business record now points at the placeholder client."""
    changed = False
    d = entry.declaration
    if is_business_record(entry) and d.client_column:
        current = session.get(Client, getattr(row, d.client_column))
        if current is not None and not current.is_erasure_placeholder:
            keep_buyer_identity(row, current)
        if current is None or not current.is_erasure_placeholder:
            placeholder = placeholder_client(session, row.dealer_id, placeholders)
            relation = _relation_of(entry.model, d.client_column)
            if relation:
                setattr(row, relation, placeholder)
            else:
                setattr(row, d.client_column, placeholder.id)
            changed = True
    if hasattr(row, "restricted_at") and row.restricted_at is None:
        row.restricted_at = now
        changed = True
    return changed


def keep_buyer_identity(row: Any, buyer: Client) -> None:
    """What the accounting purpose of a kept sale needs of its buyer: name and postal
    address, copied onto the row (restricted with it, deleted with it when its years end)."""
    if not hasattr(row, "buyer_name"):
        return
    name: list[str | None] = [buyer.first_name, buyer.last_name]  # type: ignore[list-item]  # untyped Column model
    place: list[str | None] = [buyer.postal_code, buyer.city]  # type: ignore[list-item]  # untyped Column model
    lines: list[str | None] = [buyer.address_line1, buyer.address_line2, _joined(place, " "), buyer.country]  # type: ignore[list-item]  # untyped Column model
    row.buyer_name = _joined(name, " ")[:201] or None
    row.buyer_address = _joined(lines, ", ")[:600] or None


def _joined(parts: list[str | None], separator: str) -> str:
    return separator.join(part.strip() for part in parts if part and part.strip())


def _relation_of(model: type[Model], column_name: str) -> str | None:
    for relation in inspect(model).relationships:
        if relation.direction is MANYTOONE and any(c.name == column_name for c in relation.local_columns):
            return relation.key
    return None


def placeholder_client(session: Session, dealer_id: int, cache: dict[int, Client] | None = None) -> Client:
    """The dealer's anonymised stand-in buyer (created once, then reused)."""
    if cache is not None and dealer_id in cache:
        return cache[dealer_id]
    query = select(Client).where(Client.dealer_id == dealer_id, Client.is_erasure_placeholder.is_(True))
    client = session.scalars(query.order_by(Client.id).limit(1)).first()
    if client is None:
        client = Client(
            dealer_id=dealer_id,
            first_name="Erased",
            last_name="client",
            source=ClientSource.other,
            is_erasure_placeholder=True,
            restricted_at=utcnow(),
        )
        session.add(client)
        session.flush()
    if cache is not None:
        cache[dealer_id] = client
    return client


def delete_rows(
    session: Session, model: type[Model], rows: Collection[int] | ColumnElement[bool], record: bool = True, subject: str | None = None
) -> None:
    """Delete rows (primary keys, or a WHERE clause on ``model``), doing what each foreign
    key's ON DELETE says first (SQLite does not enforce foreign keys, PostgreSQL does: the
    same result on both). ``record``: noted in the deletion ledger first (``subject``: for
    whom), so that a backup restore cannot bring them back."""
    if record:
        note_rows(session, model, rows, DELETED, subject=subject)
    session.flush()
    target = model.__table__
    (pk,) = target.primary_key.columns
    where = rows if isinstance(rows, ColumnElement) else pk.in_(list(rows))
    doomed = select(pk).where(where)
    remove_files_of_rows(session, target, where)  # stored files go once the deletion commits
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            if fk.ondelete == "SET NULL":
                session.execute(update(table).where(fk.parent.in_(doomed)).values({fk.parent.name: None}))
            elif fk.ondelete == "CASCADE":
                remove_files_of_rows(session, table, fk.parent.in_(doomed))
                if len(table.primary_key.columns) == 1:  # their history goes with them
                    (child_pk,) = table.primary_key.columns
                    forget_records(session, table.name, select(child_pk).where(fk.parent.in_(doomed)))
                session.execute(delete(table).where(fk.parent.in_(doomed)))
    forget_records(session, target.name, doomed)
    session.execute(delete(model).where(where), execution_options={"synchronize_session": False})
    session.expire_all()  # the session's copies may point at rows that are gone
