"""The data subject of a request, and how the registry finds their rows.

One matching rule, shared by finding the subject's rows (``rows_of``) and by verifying
an erasure (``scan``): a row is the subject's when it holds one of their *exact
identifiers*, the e-mail address (normalised: trimmed, lower-case) or the phone number
(E.164). Declared contact columns store these normalised, so finding compares them for
equality; free text is searched for the same values (``email_needles``,
``phone_needles``: a phone also written nationally, with spaces or dashes). A name is
never an identifier (names are not unique): the scan reports rows that only share the
name as a possible other person, for the privacy officer to judge (``name_parts``).
Rows are also found by a link to one of the subject's clients or privacy requests. A
dealer-scoped request only ever sees that dealer's rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask import current_app
from flask_appbuilder import Model
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.declarations import BY_CLIENT, BY_CONTACT, BY_RECORD, BY_REQUEST, BY_USER
from app.privacy.registry import Entry, entries


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
            value = " ".join((value or "").split())
            return (value,) if value else ()

        email = (request.subject_email or "").strip().lower()
        return cls(one(email), one(request.subject_phone), one(request.subject_name), request.dealer_id)

    @property
    def exact(self) -> tuple[str, ...]:
        """The identifiers that single the person out: e-mail and phone."""
        return self.emails + self.phones

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self.exact + self.names


# Characters people put between the digits of a phone number in free text.
PHONE_SEPARATORS = " -/().\u00a0"
# A national number shorter than this could be any number: the full E.164 digits are searched.
MIN_NATIONAL_DIGITS = 7


def email_needles(subject: Subject) -> list[str]:
    """The e-mail addresses as searched in text (a JSON column stores non-ASCII escaped)."""
    return _with_json_forms(subject.emails)


def phone_needles(subject: Subject) -> list[str]:
    """The digits searched in text stripped of ``PHONE_SEPARATORS``: the national number
    (found in +49 151 …, 0049151…, 0151 …), or all E.164 digits when it is short."""
    needles = []
    for phone in subject.phones:
        digits = "".join(ch for ch in phone if ch.isdigit())
        try:
            national = str(phonenumbers.parse(phone, None).national_number)
        except phonenumbers.NumberParseException:
            national = ""
        needle = national if len(national) >= MIN_NATIONAL_DIGITS else digits
        if needle and needle not in needles:
            needles.append(needle)
    return needles


def name_parts(subject: Subject) -> list[str]:
    """The parts of the name, lower-case (a row with every part is a possible match)."""
    parts: list[str] = []
    for name in subject.names:
        for part in name.lower().replace(",", " ").split():
            if len(part) >= 2 and part not in parts:
                parts.append(part)
    return parts


def json_forms(value: str) -> list[str]:
    """The value as plain text and as a JSON column stores it (non-ASCII escaped)."""
    escaped = json.dumps(value)[1:-1]
    return [value] if escaped == value else [value, escaped]


def _with_json_forms(values: tuple[str, ...]) -> list[str]:
    return [form for value in values for form in json_forms(value.lower())]


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
    if BY_RECORD in d.find:
        clauses.append(_of_subject_records(entry, subject, session, clients, requests))
    query = select(model).where(or_(*clauses) if clauses else false())
    if subject.dealer_id is not None and d.scope_column:
        query = query.where(getattr(model, d.scope_column) == subject.dealer_id)
    if model.__tablename__ == "client":
        query = query.where(model.is_erasure_placeholder.is_(False))
    return query.order_by(*model.__table__.primary_key.columns)


def _of_subject_records(
    entry: Entry, subject: Subject, session: Session, clients: list[int] | None, requests: list[int] | None
) -> ColumnElement[bool]:
    """Rows naming (table, row id) one of the subject's rows in another registered table."""
    from app.models.history import tracked_models

    if entry.declaration.record_columns is None:
        raise TypeError(f"{entry.table}: the privacy declaration finds rows by record but names no record columns")
    table_column, id_column = (getattr(entry.model, name) for name in entry.declaration.record_columns)
    tracked = {model.__tablename__ for model in tracked_models()}
    clauses = []
    for other in entries():
        if other.table not in tracked or BY_RECORD in other.declaration.find:
            continue
        (pk,) = other.model.__table__.primary_key.columns
        theirs = rows_of(other, subject, session, clients=clients, requests=requests).with_only_columns(pk).order_by(None)
        clauses.append(and_(table_column == other.table, id_column.in_(theirs)))
    return or_(*clauses) if clauses else false()
