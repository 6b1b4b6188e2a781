"""The end of a dealer account, step by step, and the anonymisation of deactivated users.

1. ``terminate_dealer``: the dealer is terminated and every one of its users deactivated at
   once; an account export (the "data export tool", also available any time before:
   ``request_account_export``) is made for its admins, downloadable until day 30; each
   admin is told in their language what happens when.
2. Day 30 (``ACCOUNT_DELETION_AFTER_DAYS``), ``delete_account``: the account and profile
   data go — profile columns emptied, social links, inquiries, consent records,
   disclosures, usage data, export files deleted, users anonymised, their e-mails
   emptied. Business records (cars, clients, sales) stay, restricted.
3. Three years (``BUSINESS_RECORD_YEARS``), ``erase_business_records``: every remaining
   row the dealer owns is deleted. The emptied dealer row stays as a tombstone
   ("Terminated dealer #id"): privacy requests, breach notices and anonymised users keep
   pointing at it, so a dealer's request never turns into a platform-wide one.

A deactivated user (any user: dealer or internal) is anonymised ("Former user #id") after
``USER_ANONYMISE_AFTER_DAYS``; records they created stay linked. ``deactivated_at``
follows ``active`` through a flush-time rule.

Every step plans first (rows per table per action), then applies the same plan, so a dry
run returns exactly what the real run does; a step already done finds nothing more. Each
real step writes a ``RetentionEvent`` with a certificate. Functions take a session, ids
and ``now``/``as_of``; the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail import notices
from app.mail.audience import user_language
from app.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    CarPhoto,
    ConsentRecord,
    Dealer,
    DealerSocialLink,
    DealerStatus,
    Disclosure,
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    RequestChannel,
    RequestType,
    RetentionEvent,
)
from app.models.base import utcnow
from app.privacy.files import remove_after_commit
from app.privacy.lifecycle.retention import mail_cutoff, usage_log_cutoff
from app.privacy.requests import intake
from app.security import DEALER_ADMIN, DealerUser

log = logging.getLogger(__name__)

DELETED, ANONYMISED, RESTRICTED = "deleted", "anonymised", "restricted"
TERMINATED_EVENT = "account_terminated"
DELETED_EVENT = "account_deleted"
ERASED_EVENT = "business_records_erased"
USER_EVENT = "user_anonymised"
# Profile columns emptied on day 30 (slug and business name get placeholders).
PROFILE_COLUMNS = ("legal_name", "address_line1", "address_line2", "city", "region", "postal_code", "phone", "email", "website")
# Account data deleted on day 30, children first.
ACCOUNT_DATA = (ConsentRecord, Disclosure, Inquiry, DealerSocialLink)
# Dealer-owned tables that outlive the 3 years: the tombstone itself, anonymised users,
# privacy requests (their own retention), the breach register and the retention events.
KEPT_AFTER_ERASURE = frozenset({"dealer", "ab_user", "privacy_request", "breach_dealer_notice", "retention_event"})

Counts = dict[str, dict[str, int]]


class AccountVerificationFailed(RuntimeError):
    """A deletion left personal values behind; the message names checks and counts only."""


# -- configuration -----------------------------------------------------------------------


def deletion_delay() -> timedelta:
    return timedelta(days=int(current_app.config.get("ACCOUNT_DELETION_AFTER_DAYS", 30)))


def record_years() -> int:
    return int(current_app.config.get("BUSINESS_RECORD_YEARS", 3))


def anonymise_delay() -> timedelta:
    return timedelta(days=int(current_app.config.get("USER_ANONYMISE_AFTER_DAYS", 30)))


# -- users -------------------------------------------------------------------------------


def track_user_deactivation(session: Session) -> None:
    """Flush-time rule: ``deactivated_at`` is set when ``active`` turns False and cleared
    when it turns True again; a terminated dealer's users cannot be switched back on."""
    for user in list(session.new) + list(session.dirty):
        if not isinstance(user, DealerUser):
            continue
        if user not in session.new and not inspect(user).attrs.active.history.has_changes():
            continue
        if user.active is False:
            if user.deactivated_at is None:
                user.deactivated_at = utcnow()
        elif user.active:
            _refuse_user_of_terminated_dealer(session, user)
            user.deactivated_at = None


def _refuse_user_of_terminated_dealer(session: Session, user: DealerUser) -> None:
    dealer_id = user.dealer.id if user.dealer is not None else user.dealer_id
    if dealer_id is None:
        return
    with session.no_autoflush:
        dealer = session.get(Dealer, dealer_id)
    if dealer is not None and dealer.status is DealerStatus.terminated:
        raise DomainError(_l("This dealer account is terminated: its users cannot be active."), "active")


def is_dealer_admin(user: DealerUser) -> bool:
    return any(role.name == DEALER_ADMIN for role in user.roles or [])




def _users_of(session: Session, dealer_id: int) -> list[DealerUser]:
    return list(session.scalars(select(DealerUser).where(DealerUser.dealer_id == dealer_id).order_by(DealerUser.id)))


def users_due_for_anonymisation(session: Session, as_of: datetime) -> list[int]:
    """Users deactivated ``USER_ANONYMISE_AFTER_DAYS`` ago or more and not anonymised yet.

    Users of a terminated dealer whose account deletion is still pending are left to
    ``delete_account`` (which anonymises them), so that no user is counted twice.
    """
    pending = select(Dealer.id).where(Dealer.status == DealerStatus.terminated, Dealer.account_deleted_at.is_(None))
    query = select(DealerUser.id).where(
        DealerUser.active.is_(False),
        DealerUser.deactivated_at.is_not(None),
        DealerUser.deactivated_at < _anonymise_before(as_of),
        DealerUser.anonymised_at.is_(None),
        or_(DealerUser.dealer_id.is_(None), DealerUser.dealer_id.not_in(pending)),
    )
    return list(session.scalars(query.order_by(DealerUser.id)))


def anonymise_user(session: Session, user_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """"Former user #id": the account row anonymised, the user's page views deleted and
    the e-mails sent to them emptied; rows they created stay linked to the account.

    Refused before ``USER_ANONYMISE_AFTER_DAYS`` of deactivation; ``{}`` when already done.
    """
    # Locked for a real run: the cron and a manual run cannot both anonymise the user.
    user = session.get(DealerUser, user_id, with_for_update=None if dry_run else True, populate_existing=not dry_run)
    if user is None:
        raise DomainError(_l("There is no such user."))
    if user.anonymised_at is not None:
        return {}
    if user.active or user.deactivated_at is None or user.deactivated_at >= _anonymise_before(as_of):
        raise DomainError(
            _l("A user account is anonymised %(days)s days after it was deactivated, not before.", days=anonymise_delay().days)
        )
    addresses = [user.email] if user.email else []
    page_views = and_(PageView.user_id == user.id, PageView.viewed_at >= usage_log_cutoff(as_of))
    steps = _mail_steps(session, as_of, addresses) + [
        _delete_step(session, PageView, page_views),
        _Step("ab_user", ANONYMISED, 1, lambda: _anonymise_users(session, [user_id], as_of)),
    ]
    counts = _counts(steps)
    if dry_run:
        return counts
    _apply(steps)
    checks = {
        "user_not_anonymised": _not_anonymised(session, [user_id]),
        "user_addresses_left": _addresses_left(session, addresses, [user_id]),
        "mail_to_user_left": _mail_left(session, as_of, addresses),
        "page_views_left": _rows(session, PageView, page_views),
    }
    user = session.get(DealerUser, user_id)
    _certify(session, USER_EVENT, as_of, counts, checks, dealer_id=user.dealer_id, user_id=user_id, deactivated_at=user.deactivated_at.isoformat())
    return counts


def _anonymise_users(session: Session, user_ids: list[int], as_of: datetime) -> None:
    from app.privacy.requests.erasure_rows import anonymise_user_row

    for user_id in user_ids:
        user = session.get(DealerUser, user_id)
        anonymise_user_row(user, as_of)
        if user.deactivated_at is None:
            user.deactivated_at = as_of
    session.flush()


# -- the data export tool ----------------------------------------------------------------


def export_in_progress(session: Session, dealer_id: int) -> PrivacyRequest | None:
    query = select(PrivacyRequest).where(
        PrivacyRequest.dealer_id == dealer_id,
        PrivacyRequest.request_type == RequestType.account_export,
        PrivacyRequest.status.in_(OPEN_STATUSES),
    )
    return session.scalars(query.order_by(PrivacyRequest.id.desc())).first()


def account_exports(session: Session, dealer_id: int, limit: int = 5) -> list[PrivacyRequest]:
    """The dealer's latest account exports, newest first."""
    query = select(PrivacyRequest).where(
        PrivacyRequest.dealer_id == dealer_id, PrivacyRequest.request_type == RequestType.account_export
    )
    return list(session.scalars(query.order_by(PrivacyRequest.id.desc()).limit(limit)))


def request_account_export(session: Session, dealer_id: int, actor_id: int, now: datetime | None = None) -> PrivacyRequest:
    """File the dealer's account export for the acting user, verified and started; its
    job is enqueued once the caller commits. Refused while another one is being made."""
    now = now or utcnow()
    dealer = _dealer(session, dealer_id)
    if dealer.status is not DealerStatus.active:
        raise DomainError(_l("This dealer account is terminated."))
    actor = session.get(DealerUser, actor_id) if actor_id is not None else None
    if actor is None or not actor.email:
        raise DomainError(_l("Only a signed-in user with an e-mail address can ask for an account export."))
    in_progress = export_in_progress(session, dealer.id)
    if in_progress is not None:
        raise DomainError(_l("An export of this account is already being made (%(reference)s).", reference=in_progress.reference))
    return _file_export(session, dealer, actor, actor_id, now)


def _file_export(session: Session, dealer: Dealer, owner: DealerUser, actor_id: int | None, now: datetime) -> PrivacyRequest:
    from app.queueing import enqueue_request_after_commit

    request = intake.file_request(
        session,
        request_type=RequestType.account_export,
        email=owner.email,
        dealer_id=dealer.id,
        channel=RequestChannel.dealer_admin,
        language=user_language(owner),
        actor_id=actor_id,
        now=now,
    )
    intake.start(session, request, phase="queued", actor_id=actor_id, now=now)
    session.flush()
    enqueue_request_after_commit(session, request.id)
    return request


def notify_export_ready(session: Session, request: PrivacyRequest, download_url: str) -> list[MailMessage]:
    """The signed link to a finished account package: to the admin who asked for it; for a
    terminated dealer, to every admin the termination deactivated, each in their language."""
    dealer = request.dealer
    terminated = dealer is not None and dealer.status is DealerStatus.terminated
    recipients: list[tuple[str, str]] = []
    if terminated and dealer.terminated_at is not None:
        for user in _users_of(session, dealer.id):
            if (
                is_dealer_admin(user)
                and user.email
                and user.anonymised_at is None
                and (user.active or (user.deactivated_at is not None and user.deactivated_at >= dealer.terminated_at))
            ):
                recipients.append((user.email, user_language(user)))
    if not recipients and request.subject_email:
        recipients.append((request.subject_email, request.language or "en"))
    return [
        notices.queue_notice(
            session,
            "account_export_ready",
            request=request,
            to=address,
            language=language,
            dealer_name=dealer.business_name if dealer is not None else "",
            download_url=download_url,
            expires_at=request.export_expires_at,
            terminated=terminated,
        )
        for address, language in recipients
    ]


# -- termination -------------------------------------------------------------------------


def terminate_dealer(session: Session, dealer_id: int, actor_id: int | None, reason: str | None, now: datetime | None = None) -> RetentionEvent:
    """Terminate the dealer's account: users deactivated at once, the account export made
    for its admins (downloadable until day 30), the admins told what happens when.

    A dealer admin of the dealer or internal staff acts (the caller checks who); a
    terminated dealer cannot be terminated again.
    """
    now = now or utcnow()
    dealer = _dealer(session, dealer_id, lock=True)
    if dealer.status is DealerStatus.terminated:
        raise DomainError(_l("This dealer account is already terminated."))
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 500:
        raise DomainError(_l("Keep the reason under 500 characters."), "reason")
    users = _users_of(session, dealer.id)
    admins = [u for u in users if u.active and u.email and u.anonymised_at is None and is_dealer_admin(u)]
    by_own_admin = any(u.id == actor_id for u in admins)
    export = export_in_progress(session, dealer.id)
    if export is None and admins:
        owner = next((u for u in admins if u.id == actor_id), admins[0])
        export = _file_export(session, dealer, owner, actor_id, now)

    dealer.status = DealerStatus.terminated
    dealer.terminated_at = now
    dealer.termination_reason = reason
    # Due from 00:00 UTC of the due day, so that day's cron run (and ``--as-of <day>``) finds it.
    today = now.astimezone(UTC).date()
    dealer.account_deletion_due_at = _start_of(today + deletion_delay())
    dealer.records_erasure_due_at = _start_of(today + relativedelta(years=record_years()))
    deactivated = 0
    for user in users:
        if user.active:
            user.active = False
            user.deactivated_at = now
            deactivated += 1

    recipients = [(u.email, user_language(u)) for u in admins] or ([(dealer.email, "en")] if dealer.email else [])
    for address, language in recipients:
        notices.queue_notice(
            session,
            "account_terminated",
            to=address,
            language=language,
            dealer_name=dealer.business_name,
            terminated_at=now,
            deletion_at=dealer.account_deletion_due_at,
            erasure_at=dealer.records_erasure_due_at,
            reason=None if by_own_admin else reason,
            export_requested=export is not None,
        )
    summary = {"ab_user": {"deactivated": deactivated}}
    if export is not None:
        summary["privacy_request"] = {"account_export": 1}
    if recipients:
        summary["mail_message"] = {"queued": len(recipients)}
    event = RetentionEvent(
        kind=TERMINATED_EVENT,
        dealer_id=dealer.id,
        as_of=now,
        occurred_at=utcnow(),
        dry_run=False,
        actor_id=actor_id,
        summary=summary,
        certificate={
            "dealer_id": dealer.id,
            "terminated_at": now.isoformat(),
            "requested_by": "dealer_admin" if by_own_admin else "staff",
            "users_deactivated": deactivated,
            "account_deletion_due_at": dealer.account_deletion_due_at.isoformat(),
            "records_erasure_due_at": dealer.records_erasure_due_at.isoformat(),
            "account_export": export.reference if export is not None else None,
            "admins_notified": len(recipients),
        },
    )
    session.add(event)
    log.info("dealer %s terminated: %d user(s) deactivated", dealer.id, deactivated)
    return event


def account_events(session: Session, dealer_id: int) -> list[RetentionEvent]:
    """The retention events of one dealer account, oldest first."""
    query = select(RetentionEvent).where(RetentionEvent.dealer_id == dealer_id, RetentionEvent.kind != "sweep")
    return list(session.scalars(query.order_by(RetentionEvent.occurred_at, RetentionEvent.id)))


# -- day 30: account and profile data ------------------------------------------------------


def accounts_due_for_deletion(session: Session, as_of: datetime) -> list[int]:
    """Terminated dealers whose day 30 has come and whose account data are still there.
    A dealer whose 3 years are over as well is left to ``erase_business_records``."""
    query = select(Dealer.id).where(
        Dealer.status == DealerStatus.terminated,
        Dealer.account_deleted_at.is_(None),
        Dealer.account_deletion_due_at <= as_of,
        or_(Dealer.records_erasure_due_at.is_(None), Dealer.records_erasure_due_at > as_of),
    )
    return list(session.scalars(query.order_by(Dealer.id)))


def delete_account(session: Session, dealer_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """Day 30: delete the account and profile data; keep the business records restricted.

    Returns rows per table per action (the same with ``dry_run``, which changes nothing);
    ``{}`` when already done; refused before the day. Writes an ``account_deleted`` event
    whose certificate proves that no profile or user value is left.
    """
    dealer = _terminated(session, dealer_id, lock=not dry_run)
    if dealer.account_deleted_at is not None:
        return {}
    if _not_due(dealer.account_deletion_due_at, as_of):
        raise DomainError(_l("The account data are deleted on %(date)s, not before.", date=_day(dealer.account_deletion_due_at)))
    plan = _AccountPlan.of(session, dealer, as_of)
    steps = plan.steps(restrict=True)
    counts = _counts(steps)
    if dry_run:
        return counts
    _apply(steps)
    dealer = session.get(Dealer, dealer_id)
    dealer.account_deleted_at = as_of
    session.flush()
    checks = plan.verify()
    _certify(session, DELETED_EVENT, as_of, counts, checks, dealer_id=dealer_id, records_kept_until=_iso(dealer.records_erasure_due_at))
    log.info("account data of dealer %s deleted: %s", dealer_id, counts)
    return counts


# -- three years: business records --------------------------------------------------------


def records_due_for_erasure(session: Session, as_of: datetime) -> list[int]:
    query = select(Dealer.id).where(
        Dealer.status == DealerStatus.terminated,
        Dealer.records_erased_at.is_(None),
        Dealer.records_erasure_due_at <= as_of,
    )
    return list(session.scalars(query.order_by(Dealer.id)))


def erase_business_records(session: Session, dealer_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """Three years after termination: every row the dealer still owns is deleted (the
    account data too, should day 30 not have run). The emptied dealer row stays as a
    tombstone for the privacy requests, breach notices and events that point at it."""
    dealer = _terminated(session, dealer_id, lock=not dry_run)
    if dealer.records_erased_at is not None:
        return {}
    if _not_due(dealer.records_erasure_due_at, as_of):
        raise DomainError(_l("The business records are erased on %(date)s, not before.", date=_day(dealer.records_erasure_due_at)))
    account = _AccountPlan.of(session, dealer, as_of) if dealer.account_deleted_at is None else None
    steps = account.steps(restrict=False) if account is not None else []
    steps += _records_steps(session, dealer.id, as_of, skip={s.table for s in steps if s.action == DELETED})
    counts = _counts(steps)
    if dry_run:
        return counts
    _apply(steps)
    dealer = session.get(Dealer, dealer_id)
    dealer.records_erased_at = as_of
    if dealer.account_deleted_at is None:
        dealer.account_deleted_at = as_of
    session.flush()
    checks = {"rows_left": {model.__tablename__: _rows(session, model, _owned(model, dealer_id, as_of)) for model in erased_models()}}
    if account is not None:
        checks.update(account.verify())
    _certify(session, ERASED_EVENT, as_of, counts, checks, dealer_id=dealer_id, terminated_at=_iso(dealer.terminated_at))
    log.info("business records of dealer %s erased: %s", dealer_id, counts)
    return counts


def erased_models() -> list[type]:
    """Dealer-owned models erased at 3 years, children before parents."""
    from app.extensions import db
    from app.privacy.requests.export_parts import account_tables

    owned = {m.__tablename__: m for m in account_tables() if _owned_by_dealer(m) and m.__tablename__ not in KEPT_AFTER_ERASURE}
    order = [t.name for t in db.metadata.sorted_tables]
    return [owned[name] for name in reversed(order) if name in owned]


def _owned_by_dealer(model: type) -> bool:
    column = model.__table__.c.get("dealer_id")
    return column is not None and any(fk.column.table.name == "dealer" for fk in column.foreign_keys)


def _records_steps(session: Session, dealer_id: int, as_of: datetime, skip: set[str]) -> list[_Step]:
    steps = []
    for model in erased_models():
        if model.__tablename__ in skip:
            continue
        steps.append(_delete_step(session, model, _owned(model, dealer_id, as_of), before=_photo_files if model is CarPhoto else None))
    return steps


def _owned(model: type, dealer_id: int, as_of: datetime):
    """The dealer's rows of ``model``; page views past their retention are ``usage_log``'s."""
    if model is PageView:
        return and_(PageView.dealer_id == dealer_id, PageView.viewed_at >= usage_log_cutoff(as_of))
    return model.dealer_id == dealer_id


def _photo_files(session: Session, where) -> None:
    """The photos' files go once the deletion of their rows is committed."""
    from app.privacy.requests.export_files import data_dir

    root = data_dir().resolve()
    paths = [(root / p).resolve() for p in session.scalars(select(CarPhoto.file_path).where(where)) if p]
    remove_after_commit(session, [path for path in paths if path.is_relative_to(root)])


# -- the plan of day 30 ----------------------------------------------------------------------


@dataclass
class _Step:
    table: str
    action: str
    count: int
    run: Callable[[], object]


@dataclass
class _AccountPlan:
    """What day 30 does to one dealer, found before anything changes."""

    session: Session
    dealer_id: int
    as_of: datetime
    user_ids: list[int]
    addresses: list[str]  # all mail to these is the dealer's
    profile_addresses: list[str]  # mail to these only when about one of the dealer's requests

    @classmethod
    def of(cls, session: Session, dealer: Dealer, as_of: datetime) -> _AccountPlan:
        users = _users_of(session, dealer.id)
        user_ids = [u.id for u in users]
        addresses = sorted({u.email for u in users if u.email and u.anonymised_at is None})
        profile = []
        if dealer.email and dealer.email not in addresses:
            # Another account's user with the same address keeps their own mail.
            shared = session.scalar(select(exists().where(DealerUser.email == dealer.email, DealerUser.id.not_in(user_ids or [-1]))))
            (profile if shared else addresses).append(dealer.email)
        return cls(session, dealer.id, as_of, user_ids, sorted(addresses), profile)

    def _mail(self) -> tuple:
        return _mail_unscrubbed(self.as_of, self.addresses, self.profile_addresses, self.dealer_id)

    def steps(self, restrict: bool) -> list[_Step]:
        session, dealer_id = self.session, self.dealer_id
        steps = [self._export_files(), self._account_export_requests()]
        steps += _mail_steps(session, self.as_of, self.addresses, self.profile_addresses, self.dealer_id)
        steps.append(_delete_step(session, PageView, self._page_views()))
        steps += [_delete_step(session, model, model.dealer_id == dealer_id) for model in ACCOUNT_DATA]
        pending = list(
            session.scalars(
                select(DealerUser.id).where(DealerUser.dealer_id == dealer_id, DealerUser.anonymised_at.is_(None)).order_by(DealerUser.id)
            )
        )
        steps.append(_Step("ab_user", ANONYMISED, len(pending), lambda: _anonymise_users(session, pending, self.as_of)))
        dealer = session.get(Dealer, dealer_id)
        steps.append(_Step("dealer", ANONYMISED, int(_profile_left(dealer) > 0), lambda: _empty_profile(session, dealer_id)))
        if restrict:
            steps += self._restrictions()
        return steps

    def _page_views(self):
        """Those past their retention are the ``usage_log`` sweep's."""
        mine = or_(PageView.dealer_id == self.dealer_id, PageView.user_id.in_(self.user_ids or [-1]))
        return and_(mine, PageView.viewed_at >= usage_log_cutoff(self.as_of))

    def _exports(self) -> tuple:
        """The account's export files; expired ones are the ``expired_exports`` sweep's."""
        return (
            PrivacyRequest.dealer_id == self.dealer_id,
            PrivacyRequest.export_path.is_not(None),
            or_(PrivacyRequest.export_expires_at.is_(None), PrivacyRequest.export_expires_at > self.as_of),
        )

    def _export_files(self) -> _Step:
        from app.privacy.requests.export_files import delete_exports_of

        session = self.session
        ids = list(session.scalars(select(PrivacyRequest.id).where(*self._exports())))
        return _Step("export_file", DELETED, len(ids), lambda: delete_exports_of(session, ids, reason="account_deleted"))

    def _account_export_requests(self) -> _Step:
        """The admins' addresses on the account's closed export requests go with them."""
        from app.privacy.requests.erasure_rows import pseudonymise_request

        session = self.session
        ids = list(
            session.scalars(
                select(PrivacyRequest.id).where(
                    PrivacyRequest.dealer_id == self.dealer_id,
                    PrivacyRequest.request_type == RequestType.account_export,
                    PrivacyRequest.status.in_(CLOSED_STATUSES),
                    or_(PrivacyRequest.subject_email.is_not(None), PrivacyRequest.subject_name.is_not(None)),
                )
            )
        )

        def run() -> None:
            for request_id in ids:
                pseudonymise_request(session.get(PrivacyRequest, request_id))
            session.flush()

        return _Step("privacy_request", ANONYMISED, len(ids), run)

    def _restrictions(self) -> list[_Step]:
        """Kept business records: hidden from everyone but the privacy officer, read-only."""
        from app.privacy.requests.export_parts import account_tables

        session, steps = self.session, []
        deleted = {m.__tablename__ for m in ACCOUNT_DATA} | {"page_view"}
        for model in account_tables():
            table = model.__table__
            if table.name in deleted | KEPT_AFTER_ERASURE or "restricted_at" not in table.c or not _owned_by_dealer(model):
                continue
            where = (model.dealer_id == self.dealer_id, model.restricted_at.is_(None))
            count = _rows(session, model, *where)

            def run(model=model, where=where) -> None:
                session.execute(update(model.__table__).where(*where).values(restricted_at=self.as_of))

            steps.append(_Step(table.name, RESTRICTED, count, run))
        return steps

    def verify(self) -> dict:
        """Counts of what must be gone; all zero or the deletion fails."""
        session, dealer_id = self.session, self.dealer_id
        dealer = session.get(Dealer, dealer_id)
        return {
            "dealer_profile_values_left": _profile_left(dealer),
            "users_not_anonymised": _not_anonymised(session, self.user_ids),
            "user_addresses_left": _addresses_left(session, self.addresses + self.profile_addresses, self.user_ids),
            "mail_to_user_addresses_left": _rows(session, MailMessage, *self._mail()),
            "account_rows_left": {
                **{model.__tablename__: _rows(session, model, model.dealer_id == dealer_id) for model in ACCOUNT_DATA},
                "page_view": _rows(session, PageView, self._page_views()),
            },
            "export_files_left": _rows(session, PrivacyRequest, *self._exports()),
        }


def _profile_left(dealer: Dealer) -> int:
    values = sum(getattr(dealer, name) is not None for name in PROFILE_COLUMNS)
    return values + (dealer.business_name != _placeholder_name(dealer.id)) + (dealer.slug != f"terminated-{dealer.id}")


def _placeholder_name(dealer_id: int) -> str:
    return f"Terminated dealer #{dealer_id}"


def _empty_profile(session: Session, dealer_id: int) -> None:
    values = {name: None for name in PROFILE_COLUMNS}
    values.update(business_name=_placeholder_name(dealer_id), slug=f"terminated-{dealer_id}")
    session.flush()
    session.execute(update(Dealer.__table__).where(Dealer.__table__.c.id == dealer_id).values(**values))
    session.expire_all()


def _mail_steps(session: Session, as_of: datetime, addresses: Sequence[str], dealer_only: Sequence[str] = (), dealer_id: int | None = None) -> list[_Step]:
    """E-mails sent to the addresses are emptied (unsent ones once they are sent)."""
    from app.privacy.requests.erasure_rows import scrub_message

    if not addresses and not dealer_only:
        return []
    where = _mail_unscrubbed(as_of, addresses, dealer_only, dealer_id)
    ids = list(session.scalars(select(MailMessage.id).where(*where).order_by(MailMessage.id)))

    def run() -> None:
        for message_id in ids:
            scrub_message(session.get(MailMessage, message_id), as_of)
        session.flush()

    return [_Step("mail_message", ANONYMISED, len(ids), run)]


def _mail_unscrubbed(as_of: datetime, addresses: Sequence[str], dealer_only: Sequence[str] = (), dealer_id: int | None = None) -> tuple:
    """Mail to ``addresses``, or to ``dealer_only`` about one of the dealer's requests, not
    scrubbed yet; mail the ``mail_outbox`` sweep deletes at ``as_of`` is left to it."""
    to = MailMessage.to_address.in_(list(addresses))
    if dealer_only:
        requests_of_dealer = select(PrivacyRequest.id).where(PrivacyRequest.dealer_id == dealer_id)
        to = or_(to, and_(MailMessage.to_address.in_(list(dealer_only)), MailMessage.request_id.in_(requests_of_dealer)))
    return (
        to,
        or_(MailMessage.sent_at.is_not(None), MailMessage.scrub_after_send.is_(False)),
        or_(MailMessage.sent_at.is_(None), MailMessage.sent_at >= mail_cutoff(as_of)),
    )


def _mail_left(session: Session, as_of: datetime, addresses: list[str]) -> int:
    return _rows(session, MailMessage, *_mail_unscrubbed(as_of, addresses)) if addresses else 0


def _addresses_left(session: Session, addresses: list[str], user_ids: list[int]) -> int:
    """Of these users, those who still have one of the addresses."""
    if not addresses or not user_ids:
        return 0
    return _rows(session, DealerUser, DealerUser.id.in_(user_ids), DealerUser.email.in_(addresses))


def _not_anonymised(session: Session, user_ids: list[int]) -> int:
    if not user_ids:
        return 0
    return _rows(session, DealerUser, DealerUser.id.in_(user_ids), DealerUser.anonymised_at.is_(None))


# -- planning and applying --------------------------------------------------------------------


def _delete_step(session: Session, model: type, where, before: Callable | None = None) -> _Step:
    count = _rows(session, model, where)

    def run() -> None:
        from app.privacy.requests.erasure_rows import delete_rows

        after = before(session, where) if before is not None else None
        delete_rows(session, model, where)
        if after is not None:
            after()

    return _Step(model.__tablename__, DELETED, count, run)


def _rows(session: Session, model: type, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _counts(steps: list[_Step]) -> Counts:
    counts: Counts = {}
    for step in steps:
        if step.count:
            table = counts.setdefault(step.table, {})
            table[step.action] = table.get(step.action, 0) + step.count
    return counts


def _apply(steps: list[_Step]) -> None:
    for step in steps:
        if step.count:
            step.run()


def _certify(session: Session, kind: str, as_of: datetime, counts: Counts, checks: dict, *, dealer_id: int | None, user_id: int | None = None, **facts) -> None:
    """Refuse a step whose verification found values left; otherwise log it with its
    certificate (the caller commits both together)."""
    left = _nonzero(checks)
    if left:
        log.error("%s of dealer %s / user %s failed verification: %s", kind, dealer_id, user_id, left)
        raise AccountVerificationFailed(f"values left after {kind}: {left}")
    ids = {"dealer_id": dealer_id} if user_id is None else {"user_id": user_id}
    session.add(
        RetentionEvent(
            kind=kind,
            dealer_id=dealer_id,
            user_id=user_id,
            as_of=as_of,
            occurred_at=utcnow(),
            dry_run=False,
            summary=counts,
            certificate=_certificate(as_of, counts, checks, **ids, **facts),
        )
    )


def _nonzero(checks: dict) -> dict:
    found = {}
    for key, value in checks.items():
        if isinstance(value, dict):
            nested = _nonzero(value)
            if nested:
                found[key] = nested
        elif value:
            found[key] = value
    return found


def _certificate(as_of: datetime, counts: Counts, checks: dict, **facts) -> dict:
    return {
        **facts,
        "as_of": as_of.isoformat(),
        "completed_at": utcnow().isoformat(),
        "tables": counts,
        "verification": {**checks, "passed": not _nonzero(checks)},
    }


# -- small helpers -----------------------------------------------------------------------------


def _dealer(session: Session, dealer_id: int, lock: bool = False) -> Dealer:
    """``lock``: the row locked (and read afresh) until the commit, so that two runs of a
    step (the cron and a manual one) cannot both apply it."""
    dealer = session.get(Dealer, dealer_id, with_for_update=lock or None, populate_existing=lock)
    if dealer is None:
        raise DomainError(_l("There is no such dealer."))
    return dealer


def _terminated(session: Session, dealer_id: int, lock: bool = False) -> Dealer:
    dealer = _dealer(session, dealer_id, lock=lock)
    if dealer.status is not DealerStatus.terminated or dealer.terminated_at is None:
        raise DomainError(_l("This dealer account is not terminated."))
    return dealer


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _anonymise_before(as_of: datetime) -> datetime:
    """Users deactivated before this are due: from 00:00 UTC of the
    ``USER_ANONYMISE_AFTER_DAYS``-th calendar day after the deactivation."""
    return _start_of(as_of.astimezone(UTC).date() - anonymise_delay() + timedelta(days=1))


def _not_due(due_at: datetime | None, as_of: datetime) -> bool:
    return due_at is None or as_of < due_at


def _day(value: datetime | None) -> str:
    from app.domain.formatting import format_date

    return format_date(value.date()) if value is not None else "—"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
