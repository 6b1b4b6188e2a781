"""The retention sweeps, one function each ``(session, as_of, dry_run) -> counts``: what
the privacy policy promises to delete, found as of ``as_of`` and deleted (or only counted).
``retention`` lists them with their schedules and runs them.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import ScalarResult, Select, func, select
from sqlalchemy.orm import Session

from app.domain import periods
from app.domain.enum_labels import staff_request_type_label
from app.domain.grants import DEALER_ADMIN
from app.extensions import db
from app.mail import notices
from app.mail.audience import active_users, user_language
from app.models import (
    OPEN_STATUSES,
    Client,
    ConsentRecord,
    Dealer,
    DealerStatus,
    ErasureLedgerEntry,
    ImportBatch,
    ImportRow,
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestStatus,
)
from app.privacy.files import remove_orphan_files
from app.privacy.ledger import store as deletion_ledger
from app.privacy.lifecycle import account_deletion, records, users
from app.privacy.lifecycle.sweeping import Counts, Tally, count, delete_ids, delete_where, each_unit, mail_cutoff, usage_log_cutoff
from app.privacy.links import public_url
from app.privacy.registry import entries
from app.privacy.requests import intake
from app.privacy.requests.erasure_rows import is_business_record, keep_until

log = logging.getLogger(__name__)

REMINDER_EVENT = "deadline_reminder"
REMINDER_STATES = ("due_soon", "overdue")
REQUEST_PAGE = "/privacyrequestview/show/{id}"


# -- daily -----------------------------------------------------------------------------


def sweep_expired_exports(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    from app.privacy.requests.export_files import sweep_expired_exports as sweep_files

    found = sweep_files(session, as_of, dry_run=dry_run)
    tally = Tally()
    tally.add("export_file", "deleted", found["expired"])
    tally.add("export_file", "orphan_deleted", found["orphaned"])
    # Photo files no row names (a process killed between writing them and its commit).
    tally.add("car_photo_file", "orphan_deleted", remove_orphan_files(session, as_of.timestamp(), dry_run=dry_run))
    return tally.as_dict()


def sweep_inquiries(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Inquiries received before ``as_of`` minus the dealer's ``inquiry_retention_months``
    (active dealers; a terminated dealer's go with its account). Restricted ones
    (GDPR Art. 18) are kept and counted. An inquiry's privacy-notice acknowledgement goes
    with it; consent records that belong to a client stay, their link to the inquiry
    set to NULL."""
    tally = Tally()
    settings: ScalarResult[int] = session.scalars(
        select(Dealer.inquiry_retention_months).where(Dealer.status == DealerStatus.active).distinct()
    )
    for months in sorted(set(settings)):
        dealers: Select[Any] = select(Dealer.id).where(Dealer.status == DealerStatus.active, Dealer.inquiry_retention_months == months)
        old = (Inquiry.dealer_id.in_(dealers), Inquiry.received_at < as_of - relativedelta(months=months))
        tally.add("inquiry", "kept_restricted", count(session, Inquiry, (*old, Inquiry.restricted_at.is_not(None))))
        due = select(Inquiry.id).where(*old, Inquiry.restricted_at.is_(None))
        acknowledgements = (ConsentRecord.inquiry_id.in_(due), ConsentRecord.client_id.is_(None))
        tally.add("consent_record", "deleted", delete_where(session, ConsentRecord, acknowledgements, dry_run))
        tally.add("inquiry", "deleted", delete_where(session, Inquiry, (*old, Inquiry.restricted_at.is_(None)), dry_run))
    return tally.as_dict()


def sweep_usage_log(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    cutoff = usage_log_cutoff(as_of)
    tally = Tally()
    tally.add("page_view", "deleted", delete_where(session, PageView, (PageView.viewed_at < cutoff,), dry_run))
    return tally.as_dict()


def sweep_mail_outbox(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Sent messages go after MAIL_RETENTION_DAYS; unsent ones stay for the resend job."""
    cutoff = mail_cutoff(as_of)
    tally = Tally()
    sent = (MailMessage.sent_at.is_not(None), MailMessage.sent_at < cutoff)
    tally.add("mail_message", "deleted", delete_where(session, MailMessage, sent, dry_run))
    return tally.as_dict()


def sweep_import_batches(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Uploaded imports (previews and their rows, which hold what the file held) go
    ``IMPORT_RETENTION_DAYS`` after the upload, applied or not."""
    cutoff = as_of - timedelta(days=periods.IMPORT_RETENTION_DAYS)
    old: Select[Any] = select(ImportBatch.id).where(ImportBatch.created_at < cutoff)  # type: ignore[arg-type]  # untyped Column model
    tally = Tally()
    tally.add("import_row", "deleted", delete_where(session, ImportRow, (ImportRow.batch_id.in_(old),), dry_run))
    tally.add("import_batch", "deleted", delete_where(session, ImportBatch, (ImportBatch.created_at < cutoff,), dry_run))
    return tally.as_dict()


def sweep_erasure_ledger(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Backups persist at most ``ERASURE_LEDGER_RETENTION_DAYS``: the ledgers that re-apply
    deletions after a restore (the deletion ledger outside the database, and the erasures'
    own ledger inside it) are not needed for longer."""
    cutoff = as_of - timedelta(days=int(current_app.config["ERASURE_LEDGER_RETENTION_DAYS"]))
    tally = Tally()
    tally.add("erasure_ledger", "deleted", delete_where(session, ErasureLedgerEntry, (ErasureLedgerEntry.at < cutoff,), dry_run))
    tally.add("deletion_ledger", "deleted", deletion_ledger.expire(cutoff, dry_run=dry_run))
    return tally.as_dict()


def sweep_terminated_accounts(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    tally = Tally()
    due = account_deletion.accounts_due_for_deletion(session, as_of)
    each_unit(
        session,
        due,
        dry_run,
        tally,
        "dealer",
        lambda dealer_id: account_deletion.delete_account(session, dealer_id, as_of, dry_run=dry_run),
    )
    return tally.as_dict()


def sweep_business_records(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Terminated dealers' kept records at the end of their ``BUSINESS_RECORD_YEARS``, and the
    sales kept (restricted, under the placeholder buyer) when a person was erased, once
    their own years end."""
    tally = Tally()
    whole_dealers = list(records.records_due_for_erasure(session, as_of))
    each_unit(
        session,
        whole_dealers,
        dry_run,
        tally,
        "dealer",
        lambda dealer_id: records.erase_business_records(session, dealer_id, as_of, dry_run=dry_run),
    )
    _kept_records_of_erased_people(session, as_of, dry_run, tally, skip_dealers=whole_dealers)
    return tally.as_dict()


def _kept_records_of_erased_people(session: Session, as_of: datetime, dry_run: bool, tally: Tally, skip_dealers: list[int]) -> None:
    placeholders: Select[Any] = select(Client.id).where(Client.is_erasure_placeholder.is_(True))
    due_per_client: Counter = Counter()
    today = as_of.date()
    for entry in entries():
        d = entry.declaration
        if not (is_business_record(entry) and d.client_column):
            continue
        model = entry.model
        (pk,) = model.__table__.primary_key.columns
        recorded, client = getattr(model, d.record_date_column), getattr(model, d.client_column)
        # A rough bound in SQL (adding years to 29 February ends a day early), then the
        # erasure's own rule: kept while record date + business_record_years > today.
        bound = today - relativedelta(years=d.business_record_years) + timedelta(days=1)
        query = select(pk, recorded, client).where(client.in_(placeholders), recorded <= bound)
        if skip_dealers:
            query = query.where(model.dealer_id.not_in(skip_dealers))
        due = [row for row in session.execute(query.order_by(pk)) if keep_until(entry, row) <= today]
        if not dry_run:
            delete_ids(session, model, [row[0] for row in due])
        due_per_client.update(row[2] for row in due)
        tally.add(entry.table, "deleted", len(due))
    unused = _unused_placeholders(session, sorted(due_per_client), due_per_client if dry_run else Counter())
    if not dry_run:
        delete_ids(session, Client, unused)
    tally.add("client", "deleted", len(unused))


def _unused_placeholders(session: Session, ids: list[int], leaving: Counter) -> list[int]:
    """Those of the placeholder clients ``ids`` (the buyers of the rows this sweep deletes)
    nothing points at any more (``leaving``: rows a dry run would delete)."""
    if not ids:
        return []
    references: Counter = Counter()
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is Client.__table__:
                rows = session.execute(select(fk.parent, func.count()).where(fk.parent.in_(ids)).group_by(fk.parent))
                references.update({client_id: count for client_id, count in rows})
    return [client_id for client_id in ids if references[client_id] - leaving[client_id] <= 0]


def sweep_deactivated_users(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    tally = Tally()
    due = users.users_due_for_anonymisation(session, as_of)
    each_unit(session, due, dry_run, tally, "ab_user", lambda user_id: users.anonymise_user(session, user_id, as_of, dry_run=dry_run))
    return tally.as_dict()


# -- hourly ----------------------------------------------------------------------------


def sweep_deadline_reminders(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Open requests due within 5 days, or overdue: one reminder per request and state
    (and deadline: an extension starts over) to the privacy officer and, for a dealer's
    request, to that dealer's active admins, each in their language. The request's event
    log records it, so a re-run does not send it again."""
    tally = Tally()
    horizon = as_of + timedelta(days=periods.REQUEST_DUE_SOON_DAYS)
    query: Select[Any] = select(PrivacyRequest.id).where(
        PrivacyRequest.status.in_(OPEN_STATUSES),
        PrivacyRequest.due_at <= horizon,  # type: ignore[arg-type]  # untyped Column model
    )
    due = session.scalars(query.order_by(PrivacyRequest.due_at, PrivacyRequest.id)).all()
    each_unit(session, due, dry_run, tally, "privacy_request", lambda request_id: _remind(session, request_id, as_of, dry_run))
    return tally.as_dict()


def _remind(session: Session, request_id: int, as_of: datetime, dry_run: bool) -> Counts:
    locked = select(PrivacyRequest).where(PrivacyRequest.id == request_id)
    request = session.scalars(locked if dry_run else locked.with_for_update()).first()  # one sender at a time
    if request is None:
        return {}
    state = intake.due_state(request, as_of)
    if state not in REMINDER_STATES or _unconfirmable(request, as_of) or _reminded(session, request, state):
        return {}
    recipients = reminder_recipients(session, request)
    if not dry_run:
        _send_reminder(session, request, state, recipients, as_of)
    tally = Tally()
    tally.add("privacy_request", f"reminded_{state}")
    tally.add("mail_message", "queued", len(recipients))
    return tally.as_dict()


def _unconfirmable(request: PrivacyRequest, as_of: datetime) -> bool:
    """An unconfirmed request whose link expired: the person can no longer confirm it."""
    return request.status is RequestStatus.awaiting_verification and (
        request.verification_expires_at is None or request.verification_expires_at <= as_of
    )


def _reminded(session: Session, request: PrivacyRequest, state: str) -> bool:
    query: Select[Any] = select(PrivacyRequestEvent.data).where(
        PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == REMINDER_EVENT
    )
    due = request.due_at.isoformat()
    return any((data or {}).get("state") == state and (data or {}).get("due") == due for data in session.scalars(query))


def reminder_recipients(session: Session, request: PrivacyRequest) -> list[tuple[str, str]]:
    """(address, language): the privacy officer, and a dealer's request's active admins."""
    config = current_app.config
    found: dict[str, tuple[str, str]] = {}
    officer = (config["PRIVACY_OFFICER_EMAIL"] or "").strip()
    if officer:
        found[officer.lower()] = (officer, config["BABEL_DEFAULT_LOCALE"])
    if request.dealer_id is not None:
        for user in active_users(session, dealer_id=request.dealer_id, role=DEALER_ADMIN):  # type: ignore[arg-type]  # untyped Column model
            found.setdefault(user.email.lower(), (user.email, user_language(user)))
    return list(found.values())


def _send_reminder(session: Session, request: PrivacyRequest, state: str, recipients: list[tuple[str, str]], as_of: datetime) -> None:
    # Not linked to the request: these are staff mails, not the person's data.
    url = public_url(REQUEST_PAGE.format(id=request.id))
    for address, language in recipients:
        notices.queue_notice(
            session,
            "deadline_reminder",
            to=address,
            language=language,
            privacy_request=request,
            type_label=staff_request_type_label(request.request_type),  # type: ignore[arg-type]  # untyped Column model
            state=state,
            request_url=url,
        )
    intake.record_event(session, request, REMINDER_EVENT, at=as_of, state=state, due=request.due_at.isoformat(), recipients=len(recipients))


def sweep_reconcile_requests(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    from app.privacy.requests.processing import reconcile

    tally = Tally()
    tally.add("privacy_request", "re_enqueued", reconcile(dry_run=dry_run))
    return tally.as_dict()
