"""Rectification (GDPR Art. 16): correct inaccurate data, show old vs new, log both.

The officer (or the dealer admin) proposes the corrected values; each is checked against
the subject's rows and the model's own rules, and stored on the request. The job applies
all of them in one transaction and writes one ``RectificationChange`` per column; when a
row disappeared or changed since the proposal, nothing is applied and the request goes
back to *verified* with ``failure`` set, so a new proposal can be made.

``changed_by`` on each change is the user who made the proposal (taken from the
``rectification_proposed`` event): that person decided on the new values.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from rq import get_current_job
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.extensions import db
from app.mail import notices
from app.models import (
    Client,
    Inquiry,
    PrivacyRequest,
    PrivacyRequestEvent,
    RectificationChange,
    RequestStatus,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.registry import entry_for
from app.privacy.requests import intake, progress
from app.privacy.requests.recipients import notify_recipients
from app.privacy.requests.subjects import Subject, rows_of

EDITABLE: dict[type[Model], tuple[str, ...]] = {
    Client: ("first_name", "last_name", "email", "phone", "address_line1", "address_line2", "city", "postal_code", "country"),
    Inquiry: ("name", "email", "phone"),
}
PROPOSED = "rectification_proposed"


class RectificationConflict(RuntimeError):
    """A row vanished or changed after the proposal; nothing was applied."""


def editable_columns() -> dict[str, tuple[str, ...]]:
    """Table name → the columns a rectification may change."""
    return {model.__tablename__: columns for model, columns in EDITABLE.items()}


def _model(table: str) -> type[Model] | None:
    return next((m for m in EDITABLE if m.__tablename__ == table), None)


def _clean(model: type[Model], row: Any, column: str, value: Any) -> str | None:
    """The value as the model would store it, or ``DomainError``; the row is not changed."""
    if value is not None and not isinstance(value, str):
        raise DomainError(_l("Enter the new value as text."), column)
    value = (value or "").strip() or None
    table_column = model.__table__.columns[column]
    if value is None and not table_column.nullable:
        raise DomainError(_l("This detail cannot be left empty."), column)
    length = getattr(table_column.type, "length", None)
    if value is not None and length and len(value) > length:
        raise DomainError(_l("The new value is too long (at most %(n)d characters).", n=length), column)
    validator = inspect(model).validators.get(column)
    if validator is not None:
        value = validator[0](row, column, value)  # the model's rule, called without assigning
    return value


def _subject_row(session: Session, request: PrivacyRequest, model: type[Model], pk: Any) -> Any:
    """The row, only if it is one of the subject's rows within the request's scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    entry = entry_for(model)
    if entry is None:
        return None
    query = rows_of(entry, Subject.of(request), session).where(model.id == pk)
    return session.scalars(query).first()


def _check(session: Session, request: PrivacyRequest, change: Any, seen: set) -> dict:
    if not isinstance(change, dict):
        raise DomainError(_l("Each correction names a record, a detail and its new value."))
    table, column = change.get("table"), change.get("column")
    model = _model(table) if isinstance(table, str) else None
    if model is None:
        raise DomainError(_l("Only client and inquiry details can be corrected here."), "table")
    if column not in EDITABLE[model]:
        raise DomainError(_l("This detail cannot be corrected here."), "column")
    row = _subject_row(session, request, model, change.get("pk"))
    if row is None:
        raise DomainError(_l("This record does not belong to the person of this request."), "pk")
    key = (table, row.id, column)
    if key in seen:
        raise DomainError(_l("The same detail is corrected twice."), column)
    seen.add(key)
    old = getattr(row, column)
    new = _clean(model, row, column, change.get("new"))
    if new == old:
        raise DomainError(_l("The new value is the same as the current one."), column)
    return {"table": table, "pk": row.id, "column": column, "old": old, "new": new}


def propose(session: Session, request: PrivacyRequest, changes: list[dict], actor_id: int | None) -> list[dict]:
    """Check and store the corrections; all or nothing. The caller commits."""
    if request.request_type is not RequestType.rectification:
        raise DomainError(_l("Corrections belong to a rectification request."))
    if request.status is not RequestStatus.verified:
        raise DomainError(_l("Corrections can be entered only for a verified request that is not being processed."))
    if not isinstance(changes, list) or not changes:
        raise DomainError(_l("Enter at least one correction."))
    seen: set = set()
    with session.no_autoflush:
        proposal = [_check(session, request, change, seen) for change in changes]
    request.rectification_proposal = proposal
    request.failure = None
    intake.record_event(
        session,
        request,
        PROPOSED,
        actor_id=actor_id,
        changes=len(proposal),
        columns=sorted({f"{c['table']}.{c['column']}" for c in proposal}),
    )
    return proposal


def diff(request: PrivacyRequest, session: Session | None = None) -> list[dict]:
    """Each proposed change with the value at proposal time, the value now, and the new one.

    ``stale``: the row is gone or changed since the proposal (processing would refuse);
    ``applied``: the row already holds the new value (after processing)."""
    session = session or db.session
    rows = []
    proposal: list[dict[str, Any]] = request.rectification_proposal or []  # type: ignore[assignment]  # untyped Column model
    for change in proposal:
        model = _model(change["table"])
        row = session.get(model, change["pk"]) if model is not None else None
        current = getattr(row, change["column"]) if row is not None else None
        rows.append(
            {
                **change,
                "current": current,
                "missing": row is None,
                "stale": row is None or current != change["old"],
                "applied": row is not None and current == change["new"],
            }
        )
    return rows


def _proposer_id(session: Session, request: PrivacyRequest) -> int | None:
    return session.scalar(
        select(PrivacyRequestEvent.actor_id)
        .where(PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == PROPOSED)
        .order_by(PrivacyRequestEvent.id.desc())
    )


def _fail(session: Session, request: PrivacyRequest, stale: list[dict]) -> None:
    """Nothing applied: back to verified, with the reason, so a new proposal can be made."""
    session.rollback()
    reloaded = session.get(PrivacyRequest, request.id)
    if reloaded is None:  # deleted meanwhile: nothing to record
        return
    reloaded.status = RequestStatus.verified  # type: ignore[assignment]  # untyped Column model
    reloaded.phase = "failed"  # type: ignore[assignment]  # untyped Column model
    reloaded.failure = "The data changed after the corrections were proposed; nothing was applied. Propose them again."  # type: ignore[assignment]  # untyped Column model
    intake.record_event(
        session,
        reloaded,
        "rectification_failed",
        stale=[{"table": c["table"], "pk": c["pk"], "column": c["column"], "missing": c["missing"]} for c in stale],
    )
    session.commit()


def _do_not_retry() -> None:
    """A conflict is not transient: the job fails loudly once instead of being retried."""
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def run_rectification(request_id: int) -> str:
    """The job body: apply every proposed change in one transaction, or none."""
    session = db.session
    request = session.get(PrivacyRequest, request_id)
    if request is None or request.status is not RequestStatus.in_progress or request.request_type is not RequestType.rectification:
        return "nothing to do"
    try:
        with session.no_autoflush:
            changes = diff(request, session)
        stale = [c for c in changes if c["stale"]]
        if stale or not changes:
            _fail(session, request, stale)
            _do_not_retry()
            raise RectificationConflict(f"request {request_id}: {len(stale)} proposed change(s) no longer match the data")
        now, actor_id = utcnow(), _proposer_id(session, request)
        affected_clients: set[int | None] = set()
        for done, change in enumerate(changes, start=1):
            row = session.get(_model(change["table"]), change["pk"])
            setattr(row, change["column"], change["new"])
            session.add(
                RectificationChange(
                    request_id=request.id,
                    table_name=change["table"],
                    row_pk=str(change["pk"]),
                    column_name=change["column"],
                    old_value=change["old"],
                    new_value=change["new"],
                    changed_at=now,
                    changed_by_id=actor_id,
                )
            )
            affected_clients.add(row.id if isinstance(row, Client) else row.client_id)  # type: ignore[arg-type]  # untyped Column model
            progress.report(request, "rectifying", done, len(changes))
        intake.record_event(session, request, "rectified", at=now, changes=len(changes))
        notify_recipients(session, request, "rectification", sorted(c for c in affected_clients if c is not None))
        intake.complete(session, request, now=now, changes=len(changes))
        notices.queue_notice(session, "completed", request=request)
        session.commit()
    except RectificationConflict:
        raise
    except Exception:
        session.rollback()
        raise
    return "rectified"
