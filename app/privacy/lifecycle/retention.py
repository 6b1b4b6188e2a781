"""Retention sweeps: what the privacy policy promises to delete, deleted on schedule.

Each sweep has a name, a schedule (daily or hourly) and one function
``(session, as_of, dry_run) -> counts`` that finds what is due at ``as_of`` and either
applies it or only counts it. Counts are rows per table per action, e.g.
``{"inquiry": {"deleted": 12, "kept_restricted": 1}}``; ``kept_*`` entries are rows
looked at and deliberately left alone, everything else is a change. A dry run returns
exactly the counts the real run at the same ``as_of`` then applies, and writes nothing.

A real run commits per batch or per unit (a dealer, a user, a request), so a crash
leaves a consistent state, and is idempotent: a second run at the same ``as_of`` finds
nothing more to change. ``run_sweeps`` writes one append-only ``RetentionEvent`` per
sweep run, even when nothing was due. No Flask request in here: the cron jobs
(``jobs.retention``) and the ``forecourt retention`` command call ``run_sweeps``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import DomainError
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
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestStatus,
    RetentionEvent,
)
from app.models.base import utcnow
from app.privacy.registry import entries
from app.privacy.requests import intake
from app.privacy.requests.erasure_rows import delete_rows, is_business_record, keep_until
from app.privacy.requests.links import public_url
from app.security import DEALER_ADMIN

log = logging.getLogger(__name__)

Counts = dict[str, dict[str, int]]
SweepFunction = Callable[[Session, datetime, bool], Counts]

DAILY, HOURLY = "daily", "hourly"
SCHEDULES = (DAILY, HOURLY)
ALL = "all"
SWEEP_EVENT, FAILED_EVENT = "sweep", "sweep_failed"
FAILED = "failed"  # the action counted for a unit (dealer, user, request) that raised
REMINDER_EVENT = "deadline_reminder"
REMINDER_STATES = ("due_soon", "overdue")
REQUEST_PAGE = "/privacyrequestview/show/{id}"


@dataclass(frozen=True)
class Sweep:
    name: str
    schedule: str
    title: str
    run: SweepFunction


SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, schedule: str, title) -> Callable[[SweepFunction], SweepFunction]:
    """Register a sweep function under ``name`` (the registry keeps definition order)."""

    def register(function: SweepFunction) -> SweepFunction:
        SWEEPS[name] = Sweep(name, schedule, title, function)
        return function

    return register


class SweepsFailed(RuntimeError):
    """One or more sweeps raised; the others ran. ``results`` holds what they did."""

    def __init__(self, failed: list[str], results: dict[str, Counts]) -> None:
        super().__init__("retention sweep(s) failed: " + ", ".join(failed))
        self.failed = failed
        self.results = results


class Tally:
    """Rows per table per action; zero counts are left out."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = {}

    def add(self, table: str, action: str, count: int = 1) -> None:
        if count:
            self._counts.setdefault(table, Counter())[action] += count

    def merge(self, counts: Counts | None) -> None:
        for table, actions in (counts or {}).items():
            for action, count in actions.items():
                self.add(table, action, int(count))

    def as_dict(self) -> Counts:
        return {table: dict(sorted(actions.items())) for table, actions in sorted(self._counts.items())}


# -- running them ----------------------------------------------------------------------


def select_sweeps(names_or_schedule: str | Iterable[str] | None = ALL) -> list[Sweep]:
    """``"daily"``, ``"hourly"``, ``"all"`` (or None), one sweep name, or several names."""
    if names_or_schedule is None or names_or_schedule == ALL:
        return list(SWEEPS.values())
    if isinstance(names_or_schedule, str):
        if names_or_schedule in SCHEDULES:
            return [s for s in SWEEPS.values() if s.schedule == names_or_schedule]
        names_or_schedule = [names_or_schedule]
    wanted = list(dict.fromkeys(names_or_schedule))
    unknown = [name for name in wanted if name not in SWEEPS]
    if unknown:
        raise DomainError(_l("There is no retention sweep called %(name)s.", name=", ".join(unknown)), "sweep")
    return [s for s in SWEEPS.values() if s.name in wanted]


def run_sweeps(
    names_or_schedule: str | Iterable[str] | None = ALL,
    as_of: datetime | None = None,
    dry_run: bool = False,
    session: Session | None = None,
    actor_id: int | None = None,
) -> dict[str, Counts]:
    """Run the chosen sweeps as of ``as_of`` (default: now); returns counts per sweep.

    A real run records one ``RetentionEvent`` per sweep. A sweep that raises is rolled
    back to its last commit and recorded as ``sweep_failed``, and so is one in which a
    unit failed (counted as ``failed``; the other units went ahead); the other sweeps
    still run, then ``SweepsFailed`` is raised.
    """
    session = session or db.session
    as_of = aware(as_of or utcnow())
    results: dict[str, Counts] = {}
    failed: list[str] = []
    for item in select_sweeps(names_or_schedule):
        try:
            counts = item.run(session, as_of, dry_run)
        except Exception as exc:
            session.rollback()
            log.exception("retention sweep %s failed", item.name)
            failed.append(item.name)
            if not dry_run:
                _record(session, FAILED_EVENT, item.name, as_of, actor_id, {"error": type(exc).__name__})
            continue
        units_failed = any(FAILED in actions for actions in counts.values())
        if units_failed:
            failed.append(item.name)
        if dry_run:
            session.rollback()
        else:
            _record(session, FAILED_EVENT if units_failed else SWEEP_EVENT, item.name, as_of, actor_id, counts)
            log.info("retention sweep %s as of %s: %s", item.name, as_of.isoformat(), counts)
        results[item.name] = counts
    if failed:
        raise SweepsFailed(failed, results)
    return results


def _record(session: Session, kind: str, name: str, as_of: datetime, actor_id: int | None, summary: dict) -> None:
    session.add(RetentionEvent(kind=kind, sweep=name, as_of=as_of, occurred_at=utcnow(), dry_run=False, actor_id=actor_id, summary=summary))
    session.commit()


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _each_unit(session: Session, ids: Iterable[int], dry_run: bool, tally: Tally, table: str, work: Callable[[int], Counts | None]) -> None:
    """Run ``work`` per id in its own transaction: kept (real run) or forgotten (dry
    run). One that raises is rolled back, logged and counted as ``failed``; the others
    still go ahead."""
    for unit_id in list(ids):
        try:
            tally.merge(work(unit_id))
        except Exception:
            session.rollback()
            log.exception("retention: %s %s failed", table, unit_id)
            tally.add(table, FAILED)
            continue
        if dry_run:
            session.rollback()
        else:
            session.commit()


def _batch_size() -> int:
    return max(1, int(current_app.config.get("PRIVACY_BATCH_SIZE") or 500))


def _count(session: Session, model: type, where: tuple) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _delete_where(session: Session, model: type, where: tuple, dry_run: bool) -> int:
    """Delete the rows matching ``where`` batch by batch, one commit each (the foreign
    keys' ON DELETE applied as on PostgreSQL); a dry run counts them."""
    if dry_run:
        return _count(session, model, where)
    (pk,) = model.__table__.primary_key.columns
    size, total = _batch_size(), 0
    while True:
        ids = list(session.scalars(select(pk).where(*where).order_by(pk).limit(size)))
        if not ids:
            return total
        _delete_ids(session, model, ids)
        total += len(ids)


def _delete_ids(session: Session, model: type, ids: list[int]) -> None:
    size = _batch_size()
    for start in range(0, len(ids), size):
        delete_rows(session, model, ids[start : start + size])
        session.commit()


# -- daily -----------------------------------------------------------------------------


@sweep("expired_exports", DAILY, _l("Export files whose download link expired"))
def sweep_expired_exports(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    from app.privacy.requests.export_files import sweep_expired_exports as sweep_files

    found = sweep_files(session, as_of, dry_run=dry_run)
    tally = Tally()
    tally.add("export_file", "deleted", found["expired"])
    tally.add("export_file", "orphan_deleted", found["orphaned"])
    return tally.as_dict()


@sweep("inquiries", DAILY, _l("Inquiries older than the dealer retention setting"))
def sweep_inquiries(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Inquiries received before ``as_of`` minus the dealer's ``inquiry_retention_months``
    (active dealers; a terminated dealer's go with its account). Restricted ones
    (GDPR Art. 18) are kept and counted. An inquiry's privacy-notice acknowledgement goes
    with it; consent records that belong to a client stay, their link to the inquiry
    set to NULL."""
    tally = Tally()
    settings = session.scalars(select(Dealer.inquiry_retention_months).where(Dealer.status == DealerStatus.active).distinct())
    for months in sorted(set(settings)):
        dealers = select(Dealer.id).where(Dealer.status == DealerStatus.active, Dealer.inquiry_retention_months == months)
        old = (Inquiry.dealer_id.in_(dealers), Inquiry.received_at < as_of - relativedelta(months=months))
        tally.add("inquiry", "kept_restricted", _count(session, Inquiry, (*old, Inquiry.restricted_at.is_not(None))))
        due = select(Inquiry.id).where(*old, Inquiry.restricted_at.is_(None))
        acknowledgements = (ConsentRecord.inquiry_id.in_(due), ConsentRecord.client_id.is_(None))
        tally.add("consent_record", "deleted", _delete_where(session, ConsentRecord, acknowledgements, dry_run))
        tally.add("inquiry", "deleted", _delete_where(session, Inquiry, (*old, Inquiry.restricted_at.is_(None)), dry_run))
    return tally.as_dict()


def usage_log_cutoff(as_of: datetime) -> datetime:
    """Page views before this are the ``usage_log`` sweep's; the account steps take the rest."""
    return as_of - timedelta(days=int(current_app.config.get("USAGE_LOG_RETENTION_DAYS", 90)))


def mail_cutoff(as_of: datetime) -> datetime:
    """Mail sent before this is the ``mail_outbox`` sweep's; the account steps take the rest."""
    return as_of - timedelta(days=int(current_app.config.get("MAIL_RETENTION_DAYS", 90)))


@sweep("usage_log", DAILY, _l("Usage log entries past their retention period"))
def sweep_usage_log(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    cutoff = usage_log_cutoff(as_of)
    tally = Tally()
    tally.add("page_view", "deleted", _delete_where(session, PageView, (PageView.viewed_at < cutoff,), dry_run))
    return tally.as_dict()


@sweep("mail_outbox", DAILY, _l("Sent e-mails older than their retention period"))
def sweep_mail_outbox(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Sent messages go after MAIL_RETENTION_DAYS; unsent ones stay for the resend job."""
    cutoff = mail_cutoff(as_of)
    tally = Tally()
    sent = (MailMessage.sent_at.is_not(None), MailMessage.sent_at < cutoff)
    tally.add("mail_message", "deleted", _delete_where(session, MailMessage, sent, dry_run))
    return tally.as_dict()


@sweep("erasure_ledger", DAILY, _l("Erasure ledger entries older than the oldest backup"))
def sweep_erasure_ledger(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Backups persist at most 90 days: the ledger that re-applies erasures after a
    restore is not needed for longer."""
    cutoff = as_of - timedelta(days=int(current_app.config.get("ERASURE_LEDGER_RETENTION_DAYS", 90)))
    tally = Tally()
    tally.add("erasure_ledger", "deleted", _delete_where(session, ErasureLedgerEntry, (ErasureLedgerEntry.at < cutoff,), dry_run))
    return tally.as_dict()


def _accounts():
    from app.privacy.lifecycle import accounts

    return accounts


@sweep("terminated_accounts", DAILY, _l("Account and profile data of terminated dealers (day 30)"))
def sweep_terminated_accounts(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    accounts = _accounts()
    tally = Tally()
    due = accounts.accounts_due_for_deletion(session, as_of)
    _each_unit(session, due, dry_run, tally, "dealer", lambda dealer_id: accounts.delete_account(session, dealer_id, as_of, dry_run=dry_run))
    return tally.as_dict()


@sweep("business_records", DAILY, _l("Business records kept for 3 years"))
def sweep_business_records(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Terminated dealers' kept records at their 3 years, and the sales kept (restricted,
    under the placeholder buyer) when a person was erased, once their own 3 years end."""
    accounts = _accounts()
    tally = Tally()
    whole_dealers = list(accounts.records_due_for_erasure(session, as_of))
    _each_unit(
        session, whole_dealers, dry_run, tally, "dealer", lambda dealer_id: accounts.erase_business_records(session, dealer_id, as_of, dry_run=dry_run)
    )
    _kept_records_of_erased_people(session, as_of, dry_run, tally, skip_dealers=whole_dealers)
    return tally.as_dict()


def _kept_records_of_erased_people(session: Session, as_of: datetime, dry_run: bool, tally: Tally, skip_dealers: list[int]) -> None:
    placeholders = select(Client.id).where(Client.is_erasure_placeholder.is_(True))
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
            _delete_ids(session, model, [row[0] for row in due])
        due_per_client.update(row[2] for row in due)
        tally.add(entry.table, "deleted", len(due))
    unused = _unused_placeholders(session, due_per_client if dry_run else Counter(), skip_dealers)
    if not dry_run:
        _delete_ids(session, Client, unused)
    tally.add("client", "deleted", len(unused))


def _unused_placeholders(session: Session, leaving: Counter, skip_dealers: list[int]) -> list[int]:
    """Placeholder clients nothing points at (``leaving``: rows a dry run would delete)."""
    query = select(Client.id).where(Client.is_erasure_placeholder.is_(True))
    if skip_dealers:
        query = query.where(Client.dealer_id.not_in(skip_dealers))
    ids = list(session.scalars(query.order_by(Client.id)))
    if not ids:
        return []
    references: Counter = Counter()
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is Client.__table__:
                rows = session.execute(select(fk.parent, func.count()).where(fk.parent.in_(ids)).group_by(fk.parent))
                references.update({client_id: count for client_id, count in rows})
    return [client_id for client_id in ids if references[client_id] - leaving[client_id] <= 0]


@sweep("deactivated_users", DAILY, _l("Deactivated user accounts to anonymise"))
def sweep_deactivated_users(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    accounts = _accounts()
    tally = Tally()
    due = accounts.users_due_for_anonymisation(session, as_of)
    _each_unit(session, due, dry_run, tally, "ab_user", lambda user_id: accounts.anonymise_user(session, user_id, as_of, dry_run=dry_run))
    return tally.as_dict()


# -- hourly ----------------------------------------------------------------------------


@sweep("deadline_reminders", HOURLY, _l("Reminders of privacy request deadlines"))
def sweep_deadline_reminders(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    """Open requests due within 5 days, or overdue: one reminder per request and state
    (and deadline: an extension starts over) to the privacy officer and, for a dealer's
    request, to that dealer's active admins, each in their language. The request's event
    log records it, so a re-run does not send it again."""
    tally = Tally()
    horizon = as_of + timedelta(days=intake.DUE_SOON_DAYS)
    query = select(PrivacyRequest.id).where(PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at <= horizon)
    due = session.scalars(query.order_by(PrivacyRequest.due_at, PrivacyRequest.id)).all()
    _each_unit(session, due, dry_run, tally, "privacy_request", lambda request_id: _remind(session, request_id, as_of, dry_run))
    return tally.as_dict()


def _remind(session: Session, request_id: int, as_of: datetime, dry_run: bool) -> Counts:
    locked = select(PrivacyRequest).where(PrivacyRequest.id == request_id)
    request = session.scalars(locked if dry_run else locked.with_for_update()).first()  # one sender at a time
    state = intake.due_state(request, as_of) if request is not None else "closed"
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
    query = select(PrivacyRequestEvent.data).where(PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == REMINDER_EVENT)
    due = request.due_at.isoformat()
    return any((data or {}).get("state") == state and (data or {}).get("due") == due for data in session.scalars(query))


def reminder_recipients(session: Session, request: PrivacyRequest) -> list[tuple[str, str]]:
    """(address, language): the privacy officer, and a dealer's request's active admins."""
    config = current_app.config
    found: dict[str, tuple[str, str]] = {}
    officer = (config.get("PRIVACY_OFFICER_EMAIL") or "").strip()
    if officer:
        found[officer.lower()] = (officer, config.get("BABEL_DEFAULT_LOCALE") or "en")
    if request.dealer_id is not None:
        for user in active_users(session, dealer_id=request.dealer_id, role=DEALER_ADMIN):
            found.setdefault(user.email.lower(), (user.email, user_language(user)))
    return list(found.values())


def _send_reminder(session: Session, request: PrivacyRequest, state: str, recipients: list[tuple[str, str]], as_of: datetime) -> None:
    # Not linked to the request: these are staff mails, not the person's data.
    url = public_url(REQUEST_PAGE.format(id=request.id))
    for address, language in recipients:
        notices.queue_notice(session, "deadline_reminder", to=address, language=language, privacy_request=request, state=state, request_url=url)
    intake.record_event(session, request, REMINDER_EVENT, at=as_of, state=state, due=request.due_at.isoformat(), recipients=len(recipients))


@sweep("reconcile_requests", HOURLY, _l("Privacy requests whose job was lost"))
def sweep_reconcile_requests(session: Session, as_of: datetime, dry_run: bool) -> Counts:
    from app.privacy.requests.processing import reconcile

    tally = Tally()
    tally.add("privacy_request", "re_enqueued", reconcile(dry_run=dry_run))
    return tally.as_dict()


# -- the command's input and output ----------------------------------------------------


def parse_as_of(text: str | None) -> datetime:
    """``YYYY-MM-DD`` (the start of that day, UTC) or an ISO date-time (UTC when it has no
    offset); empty: now. Raises ``DomainError``."""
    text = (text or "").strip()
    if not text:
        return utcnow()
    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), datetime.min.time(), tzinfo=UTC)
        return aware(datetime.fromisoformat(text)).astimezone(UTC)
    except ValueError:
        raise DomainError(_l("Give the date as YYYY-MM-DD or an ISO date and time."), "as_of")


def report(results: dict[str, Counts], as_of: datetime, dry_run: bool) -> str:
    """The plain-text account of a run, per sweep per table per action."""
    when = aware(as_of).astimezone(UTC).isoformat(timespec="seconds")
    if dry_run:
        lines = [f"DRY RUN: nothing was changed. Retention sweeps as of {when} would do:"]
    else:
        lines = [f"Retention sweeps as of {when} did:"]
    for name, counts in results.items():
        schedule = SWEEPS[name].schedule if name in SWEEPS else "?"
        if not counts:
            lines.append(f"  {name} ({schedule}): nothing due")
            continue
        lines.append(f"  {name} ({schedule}):")
        for table, actions in counts.items():
            done = ", ".join(f"{action} {count}" for action, count in actions.items())
            lines.append(f"    {table}: {done}")
    return "\n".join(lines)
