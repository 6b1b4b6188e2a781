"""The data subject of a request, and how the registry finds their rows.

Rows are found by e-mail or phone (never by name alone: names are not unique), by a
link to one of the subject's clients, or by a link to one of their privacy requests.
A dealer-scoped request only ever sees that dealer's rows.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_appbuilder import Model
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.declarations import BY_CLIENT, BY_CONTACT, BY_REQUEST, BY_USER
from app.privacy.registry import Entry


@dataclass(frozen=True)
class Subject:
    """Who a request is about, and where (``dealer_id`` None: the whole platform)."""

    emails: tuple[str, ...]
    phones: tuple[str, ...]
    names: tuple[str, ...]
    dealer_id: int | None

    @classmethod
    def of(cls, request) -> Subject:
        def one(value):
            return (value,) if value else ()

        return cls(one(request.subject_email), one(request.subject_phone), one(request.subject_name), request.dealer_id)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self.emails + self.phones + self.names


def subject_key(email: str | None, phone: str | None) -> str:
    """A keyed hash of the identifiers: equal for the same person, useless without the key."""
    key = (current_app.config.get("PRIVACY_LEDGER_KEY") or current_app.config["SECRET_KEY"]).encode()
    message = f"email:{(email or '').lower()}|phone:{phone or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def mask(value: str | None) -> str | None:
    """``p•••@e•••.com`` — enough to recognise, not enough to identify."""
    if not value:
        return None
    if "@" in value:
        local, _, domain = value.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{local[:1]}•••@{host[:1]}•••.{tld}"
    return f"{value[:3]}•••{value[-2:]}"


def client_ids(session: Session, subject: Subject) -> list[int]:
    from app.models import Client

    query: Select[int] = select(Client.id).where(
        _contact_clause(Client, "email", "phone", subject), Client.is_erasure_placeholder.is_(False)
    )
    if subject.dealer_id is not None:
        query = query.where(Client.dealer_id == subject.dealer_id)
    return list(session.scalars(query))


def request_ids(session: Session, subject: Subject) -> list[int]:
    from app.models import PrivacyRequest

    query: Select[int] = select(PrivacyRequest.id).where(_contact_clause(PrivacyRequest, "subject_email", "subject_phone", subject))
    if subject.dealer_id is not None:
        query = query.where(PrivacyRequest.dealer_id == subject.dealer_id)
    return list(session.scalars(query))


def user_ids(session: Session, subject: Subject) -> list[int]:
    """The user accounts signed up with the subject's e-mail (usage data hangs off them)."""
    from app.models.users import DealerUser

    if not subject.emails:
        return []
    return list(session.scalars(select(DealerUser.id).where(DealerUser.email.in_(subject.emails))))


def _contact_clause(model: type[Model], email_column: str | None, phone_column: str | None, subject: Subject) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if email_column and subject.emails:
        clauses.append(getattr(model, email_column).in_(subject.emails))
    if phone_column and subject.phones:
        clauses.append(getattr(model, phone_column).in_(subject.phones))
    return or_(*clauses) if clauses else false()


def _declared_column(model: type[Model], name: str | None) -> Any:
    """The model's column a declaration finds rows by; a declaration without it is a bug."""
    if name is None:
        raise TypeError(f"{model.__tablename__}: the privacy declaration finds rows by a column it does not name")
    return getattr(model, name)


def rows_of(
    entry: Entry, subject: Subject, session: Session, clients: list[int] | None = None, requests: list[int] | None = None
) -> Select[Any]:
    """A ``select`` of the subject's rows in one registered table."""
    d, model = entry.declaration, entry.model
    if subject.dealer_id is not None and d.platform_only:
        return select(model).where(false())
    clauses = []
    if BY_CONTACT in d.find and (subject.dealer_id is None or d.scope_column):
        clauses.append(_contact_clause(model, d.email_column, d.phone_column, subject))
    if BY_CLIENT in d.find:
        ids = client_ids(session, subject) if clients is None else clients
        clauses.append(_declared_column(model, d.client_column).in_(ids))
    if BY_REQUEST in d.find:
        ids = request_ids(session, subject) if requests is None else requests
        clauses.append(_declared_column(model, d.request_column).in_(ids))
    if BY_USER in d.find:
        clauses.append(_declared_column(model, d.user_column).in_(user_ids(session, subject)))
    query = select(model).where(or_(*clauses) if clauses else false())
    if subject.dealer_id is not None and d.scope_column:
        query = query.where(getattr(model, d.scope_column) == subject.dealer_id)
    if model.__tablename__ == "client":
        query = query.where(model.is_erasure_placeholder.is_(False))
    return query.order_by(*model.__table__.primary_key.columns)
