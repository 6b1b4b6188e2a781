"""Possible other people: rows left after an erasure that hold the person's name but
none of their identifiers (``scan.find_lookalikes``).

A name is not an identifier: such a row may be another "Jonas Schmidt". Each is recorded
on the request as a ``possible_other_person`` event (table, row id, columns: no personal
data) and waits for the privacy officer's decision, itself an event with who and when:

- *dismiss*: another person; the row is left untouched and never reported again;
- *confirm*: the same person; the row is erased now, as the erasure erases the person's
  rows (its table's declaration decides; a client's inquiries, sales and disclosures go
  with it; ledgered), and matched text the declaration does not erase is blanked.

While any is undecided the erasure waits in the ``review`` phase; it is never stuck:
the last decision queues it again, and it completes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.declarations import BY_CLIENT
from app.extensions import db
from app.models import Client, PrivacyRequest, PrivacyRequestEvent, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.ledger.rows import note_rows, reason
from app.privacy.registry import Entry, entries, entry_for
from app.privacy.requests import intake
from app.privacy.requests.erasure_ledger import add_ledger_entry
from app.privacy.requests.erasure_rows import ANONYMISED, DELETED, ERASED, KEPT, action_for, anonymise, delete_rows, keep_restricted
from app.privacy.requests.scan import Lookalike
from app.privacy.requests.subjects import subject_key

REPORTED = "possible_other_person"
CONFIRMED = "possible_match_confirmed"
DISMISSED = "possible_match_dismissed"
DECISIONS = {"confirm": CONFIRMED, "dismiss": DISMISSED}
REVIEW = "review"  # the erasure's phase while the officer decides


def _events(session: Session, request: PrivacyRequest, kinds: tuple[str, ...]) -> list[PrivacyRequestEvent]:
    query = select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind.in_(kinds))
    return list(session.scalars(query.order_by(PrivacyRequestEvent.id)))


def _data(event: PrivacyRequestEvent) -> dict[str, Any]:
    return dict(event.data or {})


def _key(data: dict[str, Any]) -> tuple[str, int]:
    return str(data.get("table")), int(data.get("row") or 0)


def decided(session: Session, request: PrivacyRequest) -> dict[tuple[str, int], str]:
    """(table, row id) → the decision's event kind."""
    return {_key(_data(e)): str(e.kind) for e in _events(session, request, (CONFIRMED, DISMISSED))}


def reported(session: Session, request: PrivacyRequest) -> list[Lookalike]:
    found: dict[tuple[str, int], Lookalike] = {}
    for event in _events(session, request, (REPORTED,)):
        data = _data(event)
        table, pk = _key(data)
        found.setdefault((table, pk), Lookalike(table, pk, tuple(data.get("columns") or ())))
    return list(found.values())


def pending(session: Session, request: PrivacyRequest) -> list[Lookalike]:
    """The possible other people still waiting for the officer's decision (a row that is
    gone meanwhile, e.g. an inquiry erased with its confirmed client, waits no more)."""
    done = decided(session, request)
    return [found for found in reported(session, request) if (found.table, found.pk) not in done and _exists(session, found)]


def _exists(session: Session, found: Lookalike) -> bool:
    table = db.metadata.tables.get(found.table)
    if table is None or len(table.primary_key.columns) != 1:
        return False
    (pk,) = table.primary_key.columns
    return session.scalar(select(pk).where(pk == found.pk)) is not None


def counts(session: Session, request: PrivacyRequest) -> dict[str, int]:
    """How many were confirmed and dismissed (for the certificate)."""
    kinds = list(decided(session, request).values())
    return {"confirmed": kinds.count(CONFIRMED), "dismissed": kinds.count(DISMISSED)}


def record(session: Session, request: PrivacyRequest, found: list[Lookalike]) -> list[Lookalike]:
    """Report the scan's look-alikes on the request (each once, none already decided);
    returns every one still waiting for a decision."""
    known = set(decided(session, request)) | {(f.table, f.pk) for f in reported(session, request)}
    for f in found:
        if (f.table, f.pk) not in known:
            intake.record_event(session, request, REPORTED, table=f.table, row=f.pk, columns=list(f.columns))
            known.add((f.table, f.pk))
    session.flush()
    return pending(session, request)


def describe(session: Session, found: Lookalike) -> dict[str, Any]:
    """What the officer compares: the row's matched columns and its contact columns."""
    entry = entry_for(found.table)
    table = entry.model.__table__ if entry is not None else db.metadata.tables.get(found.table)
    row = None
    if table is not None:
        (pk,) = table.primary_key.columns
        row = session.execute(select(table).where(pk == found.pk)).mappings().first()
    shown: dict[str, Any] = {}
    if row is not None:
        names = list(found.columns)
        if entry is not None:
            names += [c for c in (entry.declaration.email_column, entry.declaration.phone_column) if c and c not in names]
        shown = {name: row[name] for name in names if name in row}
    return {"table": found.table, "row": found.pk, "columns": list(found.columns), "values": shown, "exists": row is not None}


def decide(
    session: Session, request: PrivacyRequest, table: str, pk: int, decision: str, actor_id: int | None, now: datetime | None = None
) -> list[Lookalike]:
    """The officer's decision on one possible other person; returns those still pending.
    The caller commits, then queues the erasure again when none is left."""
    now = now or utcnow()
    if request.request_type is not RequestType.erasure or request.status is not RequestStatus.in_progress:
        raise DomainError(_l("This request has no possible other people to decide on."))
    if decision not in DECISIONS:
        raise DomainError(_l("Choose whether it is the same person or another person."))
    waiting = {(f.table, f.pk): f for f in pending(session, request)}
    found = waiting.get((table, pk))
    if found is None:
        raise DomainError(_l("This possible match is not waiting for a decision."))
    done = None
    if decision == "confirm":
        with reason(session, "erasure"):
            done = _erase(session, request, found, now)
    data: dict[str, Any] = {"table": table, "row": pk}
    if done is not None:
        data["action"] = done
    intake.record_event(session, request, DECISIONS[decision], actor_id=actor_id, at=now, **data)
    session.flush()
    left = pending(session, request)  # a confirmed client's inquiries went with it
    if not left:
        request.phase = "queued"  # the reconciler picks it up if the queue is away
    session.flush()
    return left


def _erase(session: Session, request: PrivacyRequest, found: Lookalike, now: datetime) -> str:
    """Erase a confirmed row as the person's; matched text no declaration erases is blanked."""
    key: str = request.subject_key or subject_key(request.subject_email, request.subject_phone)  # type: ignore[assignment, arg-type]  # untyped Column model
    entry = entry_for(found.table)
    placeholders: dict[int, Client] = {}
    action: str | None = None
    if entry is not None:
        row = session.get(entry.model, found.pk)
        if row is None:
            return "gone"
        if entry.table == "client":
            for child in _client_children():
                column = getattr(child.model, child.declaration.client_column or "")
                for child_row in list(session.scalars(select(child.model).where(column == found.pk))):
                    _handle(session, request, child, child_row, key, now, placeholders)
            row = session.get(entry.model, found.pk)
        action = _handle(session, request, entry, row, key, now, placeholders) if row is not None else DELETED
        if action in (DELETED, KEPT):
            return action
    leftover = [c for c in found.columns if entry is None or c not in entry.declaration.personal]
    if leftover and _blank(session, found.table, found.pk, leftover) and action is None:
        action = ANONYMISED
        if entry is not None:
            add_ledger_entry(session, request, key, found.table, found.pk, ANONYMISED, now)
    return action or "unchanged"


def _client_children() -> list[Entry]:
    return [e for e in entries() if e.table != "client" and BY_CLIENT in e.declaration.find and e.declaration.client_column]


def _handle(session: Session, request: PrivacyRequest, entry: Entry, row: Any, key: str, now: datetime, placeholders) -> str | None:
    action = action_for(entry, row, request, now.date())
    if action is None:
        return None
    pk = row.id  # a deleted row cannot be read afterwards
    if action == DELETED:
        delete_rows(session, entry.model, [pk], subject=key)  # noted in the deletion ledger too
    else:
        note_rows(session, entry.model, [pk], action, subject=key)  # before the change: the row's identity
        if action == ANONYMISED:
            anonymise(session, entry, row, now, placeholders)
        else:
            keep_restricted(session, entry, row, now, placeholders)
    add_ledger_entry(session, request, key, entry.table, pk, action, now)
    session.flush()
    return action


def _blank(session: Session, table_name: str, pk: int, columns: list[str]) -> bool:
    """Empty text columns of one row (NULL, or the erased marker where NULL is not allowed)."""
    table = db.metadata.tables.get(table_name)
    if table is None:
        return False
    (key,) = table.primary_key.columns
    values = {name: (None if table.c[name].nullable else ERASED) for name in columns if name in table.c}
    if not values:
        return False
    session.execute(update(table).where(key == pk).values(values))
    return True
