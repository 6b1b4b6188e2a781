"""The erasure job (GDPR Art. 17): a resumable, batched run over the privacy registry.

Tables are handled children first (``registry.entries()`` is in that order), in batches
of ``PRIVACY_BATCH_SIZE`` rows, each in its own transaction together with its
erasure-ledger entries (``erasure_rows`` says what happens to each row). Rows are found
from the subject every time, and rows already erased no longer match: a killed job
resumes where it stopped, and running it again changes nothing more. The operator has
confirmed the preview (``erasure_preview``) first.

Before any row goes, the recipients of the person's data are told (Art. 19) and the
person's old export packages are deleted. Afterwards the verification scan searches every
text column of every table for the person's exact identifiers (``scan``, with the rule
that found the rows): a hit fails the job loudly and leaves the request in progress for
a retry, naming the columns the registry does not declare personal. Rows that only share
the person's name are possible other people: the request waits for the privacy
officer's decisions (``lookalikes``), then completes. Completion pseudonymises the
request and issues the certificate. ``app.privacy.restore`` re-applies
the deletion ledger after a backup restore.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.extensions import db
from app.mail import notices
from app.models import ChangeRecord, Client, ErasureLedgerEntry, MailMessage, PrivacyRequest, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.ledger.rows import note_rows, reason
from app.privacy.registry import Entry, entries
from app.privacy.requests import intake, lookalikes, progress, scan
from app.privacy.requests.erasure_ledger import add_ledger_entry, is_ledgered, ledger_count
from app.privacy.requests.erasure_rows import (
    ACTIONS,
    ANONYMISED,
    BATCH_READ,
    DELETED,
    KEPT,
    action_for,
    anonymise,
    delete_rows,
    forget_anonymised_history,
    keep_restricted,
    pseudonymise_request,
    scrub_message,
)
from app.privacy.requests.subjects import Subject, client_ids, request_ids, rows_of, subject_key

log = logging.getLogger(__name__)


class ErasureVerificationFailed(RuntimeError):
    """The scan still found the person's identifiers; the message names tables and counts only."""


class _NoLongerInProgress(Exception):
    """Another run of the same erasure completed it meanwhile."""


class _Progress:
    def __init__(self, request: PrivacyRequest, done: int, total: int) -> None:
        self.request, self.done, self.total = request, done, total

    def add(self, count: int) -> None:
        self.done += count
        self.total = max(self.total, self.done)
        progress.report(self.request, "erasing", self.done, self.total)


def run_erasure(request_id: int) -> str:
    """The job body for an erasure in progress (idempotent, resumable)."""
    session = db.session
    request = session.get(PrivacyRequest, request_id)
    if request is None or request.status is not RequestStatus.in_progress or request.request_type is not RequestType.erasure:
        return "nothing to do"
    if request.erasure_confirmed_at is None:
        return "not confirmed"
    if lookalikes.pending(session, request):
        return "waiting for the privacy officer"
    try:
        subject = Subject.of(request)
        key = request.subject_key or subject_key(request.subject_email, request.subject_phone)
        _claim(session, request)
        _notify_recipients(session, request, subject)
        _delete_old_exports(session, request, subject)
        done = ledger_count(session, request.id)
        tracker = _Progress(request, done, done + _pending_count(session, request, subject))
        progress.report(request, "erasing", tracker.done, tracker.total)
        session.commit()
        placeholders: dict[int, Client] = {}
        with reason(session, "erasure"):
            for entry in entries():
                _erase_table(session, request, entry, subject, key, tracker, placeholders)
            _erase_history_holding(session, subject, key)
            verified = _verify(session, request, subject, tracker)
            if verified is None:
                session.commit()
                return "waiting for the privacy officer"
            certificate = _finish(session, request, key, tracker, verified)
            session.commit()
    except _NoLongerInProgress:
        session.rollback()
        return "nothing to do"
    except Exception:
        session.rollback()
        raise
    log.info("erasure of request %s complete: %s ledger entries", request_id, certificate["ledger_entries"])
    return f"erased: {certificate['ledger_entries']} rows"


def _claim(session: Session, request: PrivacyRequest) -> None:
    """Lock the request's row for this transaction (PostgreSQL; SQLite has one writer
    anyway). Two runs of one erasure (a worker presumed dead that was not) then take
    turns batch by batch, each finding only what the other left, and one completes it."""
    query: Select[Any] = select(PrivacyRequest.status).where(PrivacyRequest.id == request.id).with_for_update()
    if session.scalar(query) is not RequestStatus.in_progress:
        raise _NoLongerInProgress()


def _notify_recipients(session: Session, request: PrivacyRequest, subject: Subject) -> None:
    """Art. 19 notices, before the disclosure log goes with the rows (once per request)."""
    from app.privacy.requests.recipients import notify_recipients

    progress.report(request, "notifying", 0, 0)
    notify_recipients(session, request, action="erasure", client_ids=client_ids(session, subject))
    session.commit()


def _delete_old_exports(session: Session, request: PrivacyRequest, subject: Subject) -> None:
    from app.privacy.requests.export_files import delete_exports_of

    deleted = delete_exports_of(session, request_ids(session, subject), reason="erasure")
    if deleted:
        intake.record_event(session, request, "exports_deleted", count=deleted)
    session.commit()


def _pending_count(session: Session, request: PrivacyRequest, subject: Subject) -> int:
    today, count = utcnow().date(), 0
    for entry in entries():
        query = rows_of(entry, subject, session).execution_options(yield_per=BATCH_READ)
        for row in session.scalars(query):
            action = action_for(entry, row, request, today)
            if action is not None and not (action == KEPT and is_ledgered(session, request, entry.table, row.id)):
                count += 1
    return count


def _erase_table(
    session: Session, request: PrivacyRequest, entry: Entry, subject: Subject, key: str, tracker: _Progress, placeholders: dict[int, Client]
) -> None:
    """The subject's rows of one table, batch by batch, each batch in its own transaction."""
    config = current_app.config
    size = max(1, int(config["PRIVACY_BATCH_SIZE"]))
    pause = float(config["PRIVACY_BATCH_PAUSE"])
    (pk,) = entry.model.__table__.primary_key.columns
    after = None
    while True:
        _claim(session, request)
        query = rows_of(entry, subject, session)
        if after is not None:
            query = query.where(pk > after)  # rows left alone are not looked at again
        rows = session.scalars(query.limit(size)).all()
        if not rows:
            return
        after = getattr(rows[-1], pk.key)
        changed = _erase_batch(session, request, entry, rows, key, placeholders)
        if changed:
            tracker.add(changed)
        session.commit()
        if len(rows) < size:
            return
        if changed and pause:
            time.sleep(pause)


def _erase_batch(
    session: Session, request: PrivacyRequest, entry: Entry, rows: Sequence[Any], key: str, placeholders: dict[int, Client]
) -> int:
    now = utcnow()
    doomed: list[int] = []
    count = 0
    planned: list[tuple[Any, str]] = []
    for row in rows:
        action = action_for(entry, row, request, now.date())
        if action is not None and not (action == KEPT and is_ledgered(session, request, entry.table, row.id)):
            planned.append((row, action))
    for changed_action in (ANONYMISED, KEPT):  # as the rows are now: what a backup holds
        note_rows(session, entry.model, [row.id for row, a in planned if a == changed_action], changed_action, subject=key)
    for row, action in planned:
        if action == DELETED:
            doomed.append(row.id)
        elif action == ANONYMISED:
            anonymise(session, entry, row, now, placeholders)
        else:
            keep_restricted(session, entry, row, now, placeholders)
        add_ledger_entry(session, request, key, entry.table, row.id, action, now)
        count += 1
    session.flush()
    forget_anonymised_history(session, entry, [row.id for row, action in planned if action != DELETED])
    if doomed:
        delete_rows(session, entry.model, doomed, subject=key)
        placeholders.clear()  # expired with the session: looked up again when needed
    return count


def _erase_history_holding(session: Session, subject: Subject, key: str) -> None:
    """The change history of records that are not the person's but once held one of their
    identifiers (a note since rewritten): those history rows go too."""
    history = ChangeRecord.__table__
    scope = scan.table_scope(history, subject.dealer_id)
    if scope is None:
        return
    holds = or_(scan.holds_identifier(history.c.old_value, subject), scan.holds_identifier(history.c.new_value, subject))
    ids = list(session.scalars(select(history.c.id).where(holds, scope)))
    if ids:
        delete_rows(session, ChangeRecord, ids, subject=key)
        session.commit()


def _own_messages(session: Session, request: PrivacyRequest) -> list[MailMessage]:
    return list(session.scalars(select(MailMessage).where(MailMessage.request_id == request.id).order_by(MailMessage.id)))


def _verify(session: Session, request: PrivacyRequest, subject: Subject, tracker: _Progress) -> dict[str, Any] | None:
    """No exact identifier left in any text column, or fail loudly; then the rows that
    share the name: None while any waits for the officer, else the certificate's part.

    The request's own row and e-mails are left out: the final step empties them in the
    same transaction that completes the request.
    """
    progress.report(request, "verifying", tracker.done, tracker.total)
    session.commit()
    exclude: dict[str, list[int]] = {
        "privacy_request": [request.id],  # type: ignore[list-item]  # untyped Column model
        "mail_message": [m.id for m in _own_messages(session, request)],  # type: ignore[misc]  # untyped Column model
    }
    hits = scan.find_identifiers(session, subject, exclude=exclude)
    if hits:
        _fail(session, request, hits, tracker)
    waiting = lookalikes.record(session, request, scan.find_lookalikes(session, subject, exclude=exclude))
    if waiting:
        request.failure = None  # type: ignore[assignment]  # untyped Column model
        progress.report(request, lookalikes.REVIEW, tracker.done, tracker.total)
        log.info("erasure of request %s waits for the officer: %d possible other people", request.id, len(waiting))
        return None
    columns = scan.scanned_columns()
    undeclared = [f"{t}.{c}" for t, names in columns.items() for c in names if not scan.is_declared_personal(t, c)]
    return {
        "tables_scanned": len(columns),
        "columns_scanned": sum(len(names) for names in columns.values()),
        "undeclared_columns_scanned": len(undeclared),
        "hits": 0,
        # Columns a declaration keeps on purpose, with its reason (a dealer's own address).
        "kept_on_purpose": scan.find_identifiers(session, subject, exclude=exclude, kept=True).columns,
        "possible_other_people": lookalikes.counts(session, request),
    }


def _fail(session: Session, request: PrivacyRequest, hits: scan.Hits, tracker: _Progress) -> None:
    """Identifiers are left: say where (tables; columns the registry does not declare
    personal by name, first), log it, raise."""
    undeclared = {c: n for c, n in sorted(hits.columns.items()) if not scan.is_declared_personal(*c.split(".", 1))}
    summary = ", ".join(f"{table} ({count})" for table, count in sorted(hits.tables.items()))
    failure = f"The verification scan still found the person's identifiers in: {summary}"
    if undeclared:
        named = ", ".join(f"{column} ({count})" for column, count in undeclared.items())
        failure = f"Identifiers in columns the registry does not declare personal: {named}. {failure}"
    request.failure = failure[:300]  # type: ignore[assignment]  # untyped Column model
    intake.record_event(session, request, "verification_failed", hits=hits.tables, undeclared=sorted(undeclared))
    progress.report(request, "verification_failed", tracker.done, tracker.total)
    session.commit()
    log.error("erasure of request %s failed verification: %s; undeclared columns: %s", request.id, summary, sorted(undeclared) or "none")
    raise ErasureVerificationFailed(failure)


def _finish(session: Session, request: PrivacyRequest, key: str, tracker: _Progress, verification: dict[str, Any]) -> dict[str, Any]:
    """One transaction: the completion notice, the request's own e-mails scrubbed, the
    request pseudonymised, the certificate, completed."""
    _claim(session, request)
    now = utcnow()
    email: str | None = request.subject_email  # type: ignore[assignment]  # untyped Column model
    language: str | None = request.language  # type: ignore[assignment]  # untyped Column model
    own = _own_messages(session, request)
    if email:
        own.append(notices.queue_notice(session, "completed", request=request, to=email, language=language, scrub_after_send=True))
    session.flush()
    note_rows(session, MailMessage, [m.id for m in own], ANONYMISED, subject=key)  # type: ignore[misc]  # untyped Column model
    note_rows(session, PrivacyRequest, [request.id], ANONYMISED, subject=key)  # type: ignore[list-item]  # untyped Column model
    for message in own:
        scrub_message(message, now)
        add_ledger_entry(session, request, key, "mail_message", message.id, ANONYMISED, now)
    pseudonymise_request(request)
    add_ledger_entry(session, request, key, "privacy_request", request.id, ANONYMISED, now)
    session.flush()
    certificate = _certificate(session, request, now, verification)
    request.certificate = certificate  # type: ignore[assignment]  # untyped Column model
    request.failure = None  # type: ignore[assignment]  # untyped Column model
    intake.complete(session, request, now=now, ledger_entries=certificate["ledger_entries"])
    total = tracker.done + len(own) + 1
    progress.report(request, "done", total, max(total, tracker.total))
    return certificate


def _certificate(session: Session, request: PrivacyRequest, now: datetime, verification: dict[str, Any]) -> dict[str, Any]:
    """What was done and what the scan found; counts and names of tables, no personal data."""
    rows: Sequence[Row[Any, Any, int]] = session.execute(  # table name, action, count
        select(ErasureLedgerEntry.table_name, ErasureLedgerEntry.action, func.count())
        .where(ErasureLedgerEntry.request_id == request.id)
        .group_by(ErasureLedgerEntry.table_name, ErasureLedgerEntry.action)
    ).all()
    tables: dict[str, dict[str, int]] = {}
    for table, action, count in rows:
        tables.setdefault(table, {a: 0 for a in ACTIONS})[action] = count
    return {
        "reference": request.reference,
        "request_id": request.id,
        "dealer_id": request.dealer_id,
        "completed_at": now.isoformat(),
        "tables": dict(sorted(tables.items())),
        "ledger_entries": sum(count for _, _, count in rows),
        "verification": {"scanned_at": now.isoformat(), **verification},
    }
