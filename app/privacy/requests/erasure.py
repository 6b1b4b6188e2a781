"""Erasure (GDPR Art. 17): a preview the operator confirms, then a resumable batched job.

The registry drives it. Per registered table the subject's rows are deleted, anonymised
(NULL or placeholder columns) or kept: business records younger than their
``business_record_years`` (sales) stay, restricted, pointing at a per-dealer anonymised
placeholder client, until the period ends. Tables are handled children first
(``registry.entries()`` is in that order), in batches of ``PRIVACY_BATCH_SIZE`` rows, each
in its own transaction together with its erasure-ledger entries. Rows are found from
the subject every time, and rows already erased no longer match: a killed job resumes
where it stopped, and running it again changes nothing more.

Before any row goes, the recipients of the person's data are told (Art. 19) and the
person's old export packages are deleted. Afterwards a verification scan searches every
registered personal column for the identifiers; zero hits completes the request with a
certificate and pseudonymises it; a hit fails the job loudly and leaves the request in
progress for a retry. ``replay_erasures`` re-applies the ledger after a backup restore.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from datetime import UTC, date, datetime
from datetime import time as clock

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE
from werkzeug.security import generate_password_hash

from app.domain import DomainError
from app.domain.declarations import KEEP, NULL, PLACEHOLDER
from app.extensions import db
from app.mail import notices
from app.models import (
    OPEN_STATUSES,
    Client,
    ClientSource,
    Disclosure,
    ErasureLedgerEntry,
    MailMessage,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.registry import Entry, entries, entry_for
from app.privacy.requests import intake, progress, scan
from app.privacy.requests.subjects import (
    Subject,
    client_ids,
    mask,
    request_ids,
    rows_of,
    subject_key,
)

log = logging.getLogger(__name__)

DELETED, ANONYMISED, KEPT = "delete", "anonymise", "keep"
ACTIONS = (DELETED, ANONYMISED, KEPT)
ERASED = "[erased]"
BATCH_READ = 500  # rows read at a time when counting
# What a pseudonymised request keeps: subject_key (keyed hash) and subject_hint (masked).
REQUEST_IDENTIFIERS = ("subject_email", "subject_phone", "subject_name", "details", "rectification_proposal")


class ErasureVerificationFailed(RuntimeError):
    """The scan still found the person's identifiers; the message names tables and counts only."""


class _NoLongerInProgress(Exception):
    """Another run of the same erasure completed it meanwhile."""


# -- the preview -----------------------------------------------------------------------


def preview(session: Session, request: PrivacyRequest, actor_id: int | None = None, now: datetime | None = None) -> dict:
    """Count, per table, the rows the erasure will delete, anonymise or keep; store it on
    the request for the operator to confirm. Counts, table names and dates only."""
    if request.request_type is not RequestType.erasure:
        raise DomainError(_l("Only an erasure request has an erasure preview."))
    if request.status is not RequestStatus.verified:
        raise DomainError(_l("The erasure preview is made for a verified request that has not started yet."))
    now = now or utcnow()
    subject = Subject.of(request)
    clients, subject_requests = client_ids(session, subject), request_ids(session, subject)
    tables, totals = [], Counter()
    for entry in entries():
        counts, latest = Counter(), None
        query = rows_of(entry, subject, session, clients=clients, requests=subject_requests)
        for row in session.scalars(query.execution_options(yield_per=BATCH_READ)):
            action = _action(entry, row, request, now.date(), final=True)
            if action is None:
                continue
            counts[action] += 1
            until = keep_until(entry, row) if action == KEPT else None
            if until is not None and (latest is None or until > latest):
                latest = until
        if not counts:
            continue
        item = {"table": entry.table, "category": entry.category, **{action: counts[action] for action in ACTIONS}}
        if counts[KEPT]:
            item["keep_until"] = latest.isoformat() if latest else None
            item["legal_basis"] = str(entry.declaration.legal_basis)
            item["keep_reason"] = str(entry.declaration.keep_reason) if entry.declaration.keep_reason else None
        tables.append(item)
        totals.update(counts)
    result = {
        "generated_at": now.isoformat(),
        "dealer_id": request.dealer_id,
        "tables": tables,
        "totals": {action: totals[action] for action in ACTIONS},
        "open_requests": _other_open_requests(session, request, subject_requests),
        "export_files": _export_count(session, subject_requests),
        "recipients": _recipient_count(session, request, clients),
    }
    request.erasure_preview = result
    intake.record_event(
        session, request, "erasure_previewed", actor_id=actor_id, at=now, open_requests=result["open_requests"], **result["totals"]
    )
    return result


def _other_open_requests(session: Session, request: PrivacyRequest, subject_requests: list[int]) -> int:
    others = [i for i in subject_requests if i != request.id]
    if not others:
        return 0
    query = select(func.count()).where(PrivacyRequest.id.in_(others), PrivacyRequest.status.in_(OPEN_STATUSES))
    return session.scalar(query) or 0


def _export_count(session: Session, subject_requests: list[int]) -> int:
    if not subject_requests:
        return 0
    query = select(func.count()).where(PrivacyRequest.id.in_(subject_requests), PrivacyRequest.export_path.is_not(None))
    return session.scalar(query) or 0


def _recipient_count(session: Session, request: PrivacyRequest, clients: list[int]) -> int:
    if not clients:
        return 0
    query = select(func.count(func.distinct(Disclosure.recipient_email))).where(
        Disclosure.client_id.in_(clients), Disclosure.recipient_email.is_not(None)
    )
    if request.dealer_id is not None:
        query = query.where(Disclosure.dealer_id == request.dealer_id)
    return session.scalar(query) or 0


# -- what happens to one row -----------------------------------------------------------


def _action(entry: Entry, row, request: PrivacyRequest, today: date, final: bool = False) -> str | None:
    """delete / anonymise / keep, or None: left alone (now, or until the final step when
    ``final`` is False: the request itself and its own e-mails)."""
    d = entry.declaration
    if entry.table == "privacy_request":
        if row.id == request.id:
            return ANONYMISED if final else None
        if row.status in OPEN_STATUSES:
            return None  # another request being answered: the preview warns about it
        return ANONYMISED if any(getattr(row, c) is not None for c in REQUEST_IDENTIFIERS) else None
    if entry.table == "mail_message" and row.request_id == request.id:
        return ANONYMISED if final else None  # scrubbed in the final step
    if is_business_record(entry):
        return KEPT if keep_until(entry, row) > today else DELETED
    if d.deletes_rows:
        return DELETED
    if all(how == KEEP for how in d.personal.values()):
        return KEPT
    return ANONYMISED if _needs_anonymising(entry, row) else None


def is_business_record(entry: Entry) -> bool:
    d = entry.declaration
    return bool(d.business_record_years and d.record_date_column)


def keep_until(entry: Entry, row) -> date | None:
    d = entry.declaration
    if not is_business_record(entry):
        return None
    recorded = getattr(row, d.record_date_column)
    if isinstance(recorded, datetime):
        recorded = recorded.date()
    return recorded + relativedelta(years=d.business_record_years)


def _needs_anonymising(entry: Entry, row) -> bool:
    if entry.table == "ab_user":
        return row.username != f"former-user-{row.id}" or bool(row.active)
    return any(getattr(row, name) != _blank(entry, name) for name in _anonymised_columns(entry))


def _anonymised_columns(entry: Entry) -> list[str]:
    return [name for name, how in entry.declaration.personal.items() if how in (NULL, PLACEHOLDER)]


def _blank(entry: Entry, name: str):
    column = entry.model.__table__.c[name]
    return None if column.nullable else ERASED


def _anonymise(session: Session, entry: Entry, row, now: datetime, placeholders: dict) -> bool:
    """Apply the declaration's anonymisation; True when something changed."""
    if entry.table == "privacy_request":
        return _pseudonymise_request(row)
    if entry.table == "ab_user":
        return anonymise_user_row(row, now)
    if entry.table == "mail_message":
        return _scrub_message(row, now)
    if is_business_record(entry):
        return _keep(session, entry, row, now, placeholders)
    changed = False
    for name in _anonymised_columns(entry):
        column = entry.model.__table__.c[name]
        blank = _blank(entry, name)
        # a NOT NULL column that is not text has no neutral value: left to a special case
        if (column.nullable or isinstance(getattr(row, name), str)) and getattr(row, name) != blank:
            setattr(row, name, blank)
            changed = True
    return changed


def _pseudonymise_request(request: PrivacyRequest) -> bool:
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
    """"Former user #id": the one implementation for erasures and the retention of
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


def _scrub_message(message: MailMessage, now: datetime) -> bool:
    """A sent message is emptied now; an unsent one is emptied once it is sent."""
    if message.sent_at is None:
        changed = not message.scrub_after_send
        message.scrub_after_send = True
        return changed
    if message.scrubbed_at is not None and message.to_address is None:
        return False
    message.to_address = None
    message.subject = ERASED
    message.body_text = ERASED
    message.body_html = None
    message.scrub_after_send = True
    message.scrubbed_at = now
    return True


def _keep(session: Session, entry: Entry, row, now: datetime, placeholders: dict) -> bool:
    """Keep a row, restricted; a business record now points at the placeholder client."""
    changed = False
    d = entry.declaration
    if is_business_record(entry) and d.client_column:
        current = session.get(Client, getattr(row, d.client_column))
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


def _relation_of(model: type, column_name: str) -> str | None:
    for relation in inspect(model).relationships:
        if relation.direction is MANYTOONE and any(c.name == column_name for c in relation.local_columns):
            return relation.key
    return None


def placeholder_client(session: Session, dealer_id: int, cache: dict | None = None) -> Client:
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


def delete_rows(session: Session, model: type, rows) -> None:
    """Delete rows (primary keys, or a WHERE clause on ``model``), doing what each foreign
    key's ON DELETE says first (SQLite does not enforce foreign keys, PostgreSQL does: the
    same result on both)."""
    session.flush()
    target = model.__table__
    (pk,) = target.primary_key.columns
    where = pk.in_(list(rows)) if isinstance(rows, (list, tuple, set)) else rows
    doomed = select(pk).where(where)
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            if fk.ondelete == "SET NULL":
                session.execute(update(table).where(fk.parent.in_(doomed)).values({fk.parent.name: None}))
            elif fk.ondelete == "CASCADE":
                session.execute(delete(table).where(fk.parent.in_(doomed)))
    session.execute(delete(model).where(where), execution_options={"synchronize_session": False})
    session.expire_all()  # the session's copies may point at rows that are gone


def _ledger(session: Session, request: PrivacyRequest, key: str, table: str, pk, action: str, now: datetime) -> None:
    session.add(ErasureLedgerEntry(request_id=request.id, subject_key=key, table_name=table, row_pk=str(pk), action=action, at=now))


def _ledgered(session: Session, request_id: int, table: str, pk) -> bool:
    query = select(ErasureLedgerEntry.id).where(
        ErasureLedgerEntry.request_id == request_id, ErasureLedgerEntry.table_name == table, ErasureLedgerEntry.row_pk == str(pk)
    )
    return session.scalar(query.limit(1)) is not None


# -- the job ---------------------------------------------------------------------------


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
    try:
        subject = Subject.of(request)
        key = request.subject_key or subject_key(request.subject_email, request.subject_phone)
        _claim(session, request)
        _notify_recipients(session, request, subject)
        _delete_old_exports(session, request, subject)
        done = _ledger_count(session, request.id)
        tracker = _Progress(request, done, done + _pending_count(session, request, subject))
        progress.report(request, "erasing", tracker.done, tracker.total)
        session.commit()
        placeholders: dict = {}
        for entry in entries():
            _erase_table(session, request, entry, subject, key, tracker, placeholders)
        _verify(session, request, subject, tracker)
        certificate = _finish(session, request, key, tracker)
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
    query = select(PrivacyRequest.status).where(PrivacyRequest.id == request.id).with_for_update()
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


def _ledger_count(session: Session, request_id: int) -> int:
    return session.scalar(select(func.count()).where(ErasureLedgerEntry.request_id == request_id)) or 0


def _pending_count(session: Session, request: PrivacyRequest, subject: Subject) -> int:
    today, count = utcnow().date(), 0
    for entry in entries():
        query = rows_of(entry, subject, session).execution_options(yield_per=BATCH_READ)
        for row in session.scalars(query):
            action = _action(entry, row, request, today)
            if action is not None and not (action == KEPT and _ledgered(session, request.id, entry.table, row.id)):
                count += 1
    return count


def _erase_table(session: Session, request: PrivacyRequest, entry: Entry, subject: Subject, key: str, tracker: _Progress, placeholders: dict) -> None:
    """The subject's rows of one table, batch by batch, each batch in its own transaction."""
    config = current_app.config
    size = max(1, int(config.get("PRIVACY_BATCH_SIZE") or 500))
    pause = float(config.get("PRIVACY_BATCH_PAUSE") or 0)
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


def _erase_batch(session: Session, request: PrivacyRequest, entry: Entry, rows: list, key: str, placeholders: dict) -> int:
    now = utcnow()
    doomed, count = [], 0
    for row in rows:
        action = _action(entry, row, request, now.date())
        if action is None or (action == KEPT and _ledgered(session, request.id, entry.table, row.id)):
            continue
        if action == DELETED:
            doomed.append(row.id)
        elif action == ANONYMISED:
            _anonymise(session, entry, row, now, placeholders)
        else:
            _keep(session, entry, row, now, placeholders)
        _ledger(session, request, key, entry.table, row.id, action, now)
        count += 1
    session.flush()
    if doomed:
        delete_rows(session, entry.model, doomed)
        placeholders.clear()  # expired with the session: looked up again when needed
    return count


def _own_messages(session: Session, request: PrivacyRequest) -> list[MailMessage]:
    return list(session.scalars(select(MailMessage).where(MailMessage.request_id == request.id).order_by(MailMessage.id)))


def _verify(session: Session, request: PrivacyRequest, subject: Subject, tracker: _Progress) -> None:
    """Zero hits of the identifiers in the registered personal columns, or fail loudly.

    The request's own row and e-mails are left out: the final step empties them in the
    same transaction that completes the request.
    """
    progress.report(request, "verifying", tracker.done, tracker.total)
    session.commit()
    exclude = {"privacy_request": [request.id], "mail_message": [m.id for m in _own_messages(session, request)]}
    hits = scan.scan_registered(session, subject.identifiers, dealer_id=request.dealer_id, exclude=exclude)
    if not hits:
        return
    summary = ", ".join(f"{table} ({count})" for table, count in sorted(hits.items()))
    request.failure = f"The verification scan still found the person's identifiers in: {summary}"[:300]
    intake.record_event(session, request, "verification_failed", hits=hits)
    progress.report(request, "verification_failed", tracker.done, tracker.total)
    session.commit()
    log.error("erasure of request %s failed verification: %s", request.id, summary)
    raise ErasureVerificationFailed(request.failure)


def _finish(session: Session, request: PrivacyRequest, key: str, tracker: _Progress) -> dict:
    """One transaction: the completion notice, the request's own e-mails scrubbed, the
    request pseudonymised, the certificate, completed."""
    _claim(session, request)
    now = utcnow()
    email = request.subject_email
    own = _own_messages(session, request)
    if email:
        own.append(
            notices.queue_notice(session, "completed", request=request, to=email, language=request.language, scrub_after_send=True)
        )
    session.flush()
    for message in own:
        _scrub_message(message, now)
        _ledger(session, request, key, "mail_message", message.id, ANONYMISED, now)
    _pseudonymise_request(request)
    _ledger(session, request, key, "privacy_request", request.id, ANONYMISED, now)
    session.flush()
    certificate = _certificate(session, request, now)
    request.certificate = certificate
    request.failure = None
    intake.complete(session, request, now=now, ledger_entries=certificate["ledger_entries"])
    total = tracker.done + len(own) + 1
    progress.report(request, "done", total, max(total, tracker.total))
    return certificate


def _certificate(session: Session, request: PrivacyRequest, now: datetime) -> dict:
    """What was done and what the scan found; counts and names of tables, no personal data."""
    rows = session.execute(
        select(ErasureLedgerEntry.table_name, ErasureLedgerEntry.action, func.count())
        .where(ErasureLedgerEntry.request_id == request.id)
        .group_by(ErasureLedgerEntry.table_name, ErasureLedgerEntry.action)
    ).all()
    tables: dict[str, dict[str, int]] = {}
    for table, action, count in rows:
        tables.setdefault(table, {a: 0 for a in ACTIONS})[action] = count
    columns = scan.scanned_columns()
    return {
        "reference": request.reference,
        "request_id": request.id,
        "dealer_id": request.dealer_id,
        "completed_at": now.isoformat(),
        "tables": dict(sorted(tables.items())),
        "ledger_entries": sum(count for _, _, count in rows),
        "verification": {
            "scanned_at": now.isoformat(),
            "tables_scanned": len(columns),
            "columns_scanned": sum(len(names) for names in columns.values()),
            "hits": 0,
        },
    }


# -- replay after a backup restore -----------------------------------------------------


def replay_erasures(since: str | date | datetime | None = None) -> dict:
    """Re-apply the erasure ledger (from ``since`` on): rows a restored backup brought
    back are deleted, anonymised or kept restricted again. Idempotent; returns how many
    rows were changed per action."""
    session = db.session
    start = _since(since)
    size = max(1, int(current_app.config.get("PRIVACY_BATCH_SIZE") or 500))
    counts: Counter = Counter()
    placeholders: dict = {}
    after = 0
    while True:
        query = select(ErasureLedgerEntry).where(ErasureLedgerEntry.id > after)
        if start is not None:
            query = query.where(ErasureLedgerEntry.at >= start)
        ledger = session.scalars(query.order_by(ErasureLedgerEntry.id).limit(size)).all()
        if not ledger:
            break
        after = ledger[-1].id
        try:
            for item in [(e.table_name, e.row_pk, e.action, e.at) for e in ledger]:
                if _replay_one(session, *item, placeholders=placeholders):
                    counts[item[2]] += 1
            session.commit()
        except Exception:
            session.rollback()
            raise
    log.info("replayed the erasure ledger: %s", dict(counts))
    return {action: counts[action] for action in ACTIONS}


def _replay_one(session: Session, table: str, row_pk: str, action: str, erased_at: datetime, placeholders: dict) -> bool:
    entry = entry_for(table)
    if entry is None:
        return False
    row = session.get(entry.model, int(row_pk))
    if row is None or _created_after(row, erased_at):
        return False
    now = utcnow()
    if action == DELETED:
        session.flush()
        delete_rows(session, entry.model, [row.id])
        placeholders.clear()
        return True
    if action == ANONYMISED:
        return _anonymise(session, entry, row, now, placeholders)
    if action == KEPT:
        return _keep(session, entry, row, now, placeholders)
    return False


# When a row was created, per table: the first of these columns it has.
CREATED_COLUMNS = ("created_at", "created_on", "received_at", "registration_date", "changed_at")


def _created_after(row, erased_at: datetime) -> bool:
    """A row created after the erasure is another row under a reused primary key (SQLite
    reuses the highest id; a restored PostgreSQL sequence hands out ids again): leave it."""
    for name in CREATED_COLUMNS:
        created = getattr(row, name, None)
        if isinstance(created, datetime):
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            return created > erased_at
    return False


def _since(since) -> datetime | None:
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if not isinstance(since, date):
        try:
            since = date.fromisoformat(str(since).strip())
        except ValueError:
            raise DomainError(_l("Give the date as YYYY-MM-DD."), "since")
    return datetime.combine(since, clock.min, tzinfo=UTC)
