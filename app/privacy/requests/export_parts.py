"""What goes into an export package: the parts (categories or tables), their rows and columns.

A person's package (access, portability) has one part per registered category that holds
rows of the subject, with the declaration's export columns. A dealer's account package
has one part per table with a ``dealer_id`` column (the dealer row and its users first),
all columns but secrets, or the declaration's ``account_export_columns`` (the staff's
usage log goes without IP address and browser); rows restricted at a person's request
(GDPR Art. 18), and the change history of such rows, are left out and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from app.domain import DomainError
from app.models import Car, CarPhoto, ChangeRecord, Dealer, PrivacyRequest
from app.models.history import of_restricted_records
from app.privacy.registry import Entry, entries, entry_for, mapped_models
from app.privacy.requests.subjects import Subject, client_ids, request_ids, rows_of

# Never written into any package, whatever table they are in.
SECRET_COLUMNS = re.compile(r"password|secret|token|api_key", re.IGNORECASE)
# The account package starts with these tables; the rest follow by name.
ACCOUNT_FIRST = ("dealer", "ab_user")


@dataclass
class Part:
    """One category (subject export) or table (account export) of the package."""

    name: str
    model: type[Model]
    query: Select[Any]
    columns: tuple[str, ...]
    total: int
    entry: Entry | None = None
    left_out: int = 0  # rows restricted at a person's request, not exported


def count_rows(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def subject_parts(session: Session, request: PrivacyRequest) -> list[Part]:
    """Access/portability: per registered category, the subject's rows and export columns."""
    subject = Subject.of(request)
    clients, own_requests = client_ids(session, subject), request_ids(session, subject)
    plan = []
    for entry in entries():
        query = rows_of(entry, subject, session, clients=clients, requests=own_requests)
        total = count_rows(session, query)
        if total:
            plan.append(Part(entry.category, entry.model, query, entry.declaration.export_columns, total, entry))
    return plan


def account_tables() -> list[type[Model]]:
    """The models of a dealer's account: the dealer, then every mapped table with a
    ``dealer_id`` column (one model per table: the most derived, e.g. ``DealerUser``)."""
    by_table: dict[str, type[Model]] = {}
    for model in mapped_models():
        table = model.__table__
        if table.name != "dealer" and "dealer_id" not in table.c:
            continue
        known = by_table.get(table.name)
        if known is None or issubclass(model, known):
            by_table[table.name] = model
    first = [by_table[name] for name in ACCOUNT_FIRST if name in by_table]
    return first + [model for name, model in sorted(by_table.items()) if name not in ACCOUNT_FIRST]


def account_parts(session: Session, request: PrivacyRequest) -> list[Part]:
    """The dealer's account: all columns but secrets; restricted rows left out, counted."""
    dealer_id = request.dealer_id
    if dealer_id is None:
        raise DomainError(_l("An account export belongs to one dealer."))
    plan = []
    for model in account_tables():
        scope = model.id == dealer_id if model is Dealer else model.dealer_id == dealer_id
        query = select(model).where(scope)
        left_out = 0
        hidden = restricted_rows(model)
        if hidden is not None:
            left_out = count_rows(session, select(model).where(scope, hidden))
            query = query.where(~hidden)
        query = query.order_by(*model.__table__.primary_key.columns)
        total = count_rows(session, query)
        if total or left_out:
            entry = entry_for(model)
            plan.append(Part(model.__tablename__, model, query, account_columns(model, entry), total, entry, left_out))
    return plan


def restricted_rows(model: type[Model]) -> ColumnElement[bool] | None:
    """The rows of ``model`` restricted at a person's request: their own stamp, or for the
    change history, that of the record it describes (None: nothing of it is restricted)."""
    if "restricted_at" in model.__table__.c:
        return model.restricted_at.is_not(None)
    if model is ChangeRecord:
        return of_restricted_records()
    if model is CarPhoto:  # a restricted car's photos stay out with it (their files too)
        return CarPhoto.car_id.in_(select(Car.id).where(Car.restricted_at.is_not(None)))
    return None


def account_columns(model: type[Model], entry: Entry | None) -> tuple[str, ...]:
    """What the account export takes from ``model``: the declaration's choice, else every
    column but secrets."""
    if entry is not None and entry.declaration.account_export_columns is not None:
        return entry.declaration.account_export_columns
    return plain_columns(model)


def plain_columns(model: type[Model]) -> tuple[str, ...]:
    """The model's column attributes, secrets left out."""
    return tuple(attr.key for attr in inspect(model).column_attrs if not SECRET_COLUMNS.search(attr.columns[0].name))
