"""The end of a dealer account, step 2: day 30 (``ACCOUNT_DELETION_AFTER_DAYS`` after the
termination), ``delete_account``.

The account and profile data go: profile columns emptied, social links, inquiries, consent
records, disclosures, the change history of records, usage data and export files deleted, users anonymised, their e-mails
emptied. Business records (cars, clients, sales) stay, restricted, until ``records``
erases them. Planned first (``AccountPlan``), then applied and verified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail.audience import users_of
from app.models import (
    CLOSED_STATUSES,
    CarPhoto,
    ChangeRecord,
    ConsentRecord,
    Dealer,
    DealerSocialLink,
    DealerStatus,
    Disclosure,
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    RequestType,
)
from app.models.users import DealerUser
from app.privacy.ledger import store as ledger
from app.privacy.ledger.rows import note_rows, reason
from app.privacy.lifecycle.steps import (
    ANONYMISED,
    DELETED,
    RESTRICTED,
    Step,
    addresses_left,
    apply,
    certify,
    counts_of,
    day_text,
    dealer_of,
    delete_step,
    iso,
    mail_steps,
    mail_unscrubbed,
    not_anonymised,
    not_due,
    note_dealer,
    rows,
    terminated_dealer,
)
from app.privacy.lifecycle.sweeping import Counts, usage_log_cutoff
from app.privacy.lifecycle.users import anonymise_users

log = logging.getLogger(__name__)

DELETED_EVENT = "account_deleted"
# Profile columns emptied on day 30 (slug and business name get placeholders).
PROFILE_COLUMNS = ("legal_name", "address_line1", "address_line2", "city", "region", "postal_code", "phone", "email", "website")
# Account data deleted on day 30, children first. Car photos (and their files) are
# listing material, not business records: they go on day 30 too.
ACCOUNT_DATA: tuple[Any, ...] = (ChangeRecord, ConsentRecord, Disclosure, Inquiry, DealerSocialLink, CarPhoto)
# Dealer-owned tables that outlive the business records' years: the tombstone itself,
# anonymised users, privacy requests (their own retention), the breach register and the
# retention events.
KEPT_AFTER_ERASURE = frozenset({"dealer", "ab_user", "privacy_request", "breach_dealer_notice", "retention_event"})


def accounts_due_for_deletion(session: Session, as_of: datetime) -> list[int]:
    """Terminated dealers whose day 30 has come and whose account data are still there.
    A dealer whose 3 years are over as well is left to ``erase_business_records``."""
    query: Select[Any] = select(Dealer.id).where(
        Dealer.status == DealerStatus.terminated,
        Dealer.account_deleted_at.is_(None),
        Dealer.account_deletion_due_at <= as_of,  # type: ignore[arg-type]  # untyped Column model
        or_(Dealer.records_erasure_due_at.is_(None), Dealer.records_erasure_due_at > as_of),  # type: ignore[arg-type]  # untyped Column model
    )
    return list(session.scalars(query.order_by(Dealer.id)))


def delete_account(session: Session, dealer_id: int, as_of: datetime, dry_run: bool = False) -> Counts:
    """Day 30: delete the account and profile data; keep the business records restricted.

    Returns rows per table per action (the same with ``dry_run``, which changes nothing);
    ``{}`` when already done; refused before the day. Writes an ``account_deleted`` event
    whose certificate proves that no profile or user value is left.
    """
    dealer = terminated_dealer(session, dealer_id, lock=not dry_run)
    if dealer.account_deleted_at is not None:
        return {}
    if not_due(dealer.account_deletion_due_at, as_of):
        raise DomainError(_l("The account data are deleted on %(date)s, not before.", date=day_text(dealer.account_deletion_due_at)))
    plan = AccountPlan.of(session, dealer, as_of)
    steps = plan.steps(restrict=True)
    counts = counts_of(steps)
    if dry_run:
        return counts
    with reason(session, f"account_deleted:{dealer_id}"):
        apply(steps)
        dealer = dealer_of(session, dealer_id)
        dealer.account_deleted_at = as_of
        note_dealer(session, dealer)
    checks = plan.verify()
    certify(session, DELETED_EVENT, as_of, counts, checks, dealer_id=dealer_id, records_kept_until=iso(dealer.records_erasure_due_at))
    log.info("account data of dealer %s deleted: %s", dealer_id, counts)
    return counts


def owned_by_dealer(model: Any) -> bool:
    column = model.__table__.c.get("dealer_id")
    return column is not None and any(fk.column.table.name == "dealer" for fk in column.foreign_keys)


@dataclass
class AccountPlan:
    """What day 30 does to one dealer, found before anything changes."""

    session: Session
    dealer_id: int
    as_of: datetime
    user_ids: list[int]
    addresses: list[str]  # all mail to these is the dealer's
    profile_addresses: list[str]  # mail to these only when about one of the dealer's requests

    @classmethod
    def of(cls, session: Session, dealer: Dealer, as_of: datetime) -> AccountPlan:
        users = users_of(session, dealer.id)  # type: ignore[arg-type]  # untyped Column model
        user_ids = [u.id for u in users]
        addresses = sorted({u.email for u in users if u.email and u.anonymised_at is None})
        profile: list[str] = []
        if dealer.email and dealer.email not in addresses:
            # Another account's user with the same address keeps their own mail.
            shared = session.scalar(select(exists().where(DealerUser.email == dealer.email, DealerUser.id.not_in(user_ids or [-1]))))
            (profile if shared else addresses).append(dealer.email)  # type: ignore[arg-type]  # untyped Column model
        return cls(session, dealer.id, as_of, user_ids, sorted(addresses), profile)  # type: ignore[arg-type]  # untyped Column model

    def _mail(self) -> tuple:
        return mail_unscrubbed(self.as_of, self.addresses, self.profile_addresses, self.dealer_id)

    def steps(self, restrict: bool) -> list[Step]:
        session, dealer_id = self.session, self.dealer_id
        steps = [self._export_files(), self._account_export_requests()]
        steps += mail_steps(session, self.as_of, self.addresses, self.profile_addresses, self.dealer_id)
        steps.append(delete_step(session, PageView, self._page_views()))
        steps += [delete_step(session, model, model.dealer_id == dealer_id) for model in ACCOUNT_DATA]
        pending = list(
            session.scalars(
                select(DealerUser.id).where(DealerUser.dealer_id == dealer_id, DealerUser.anonymised_at.is_(None)).order_by(DealerUser.id)
            )
        )
        steps.append(Step("ab_user", ANONYMISED, len(pending), lambda: anonymise_users(session, pending, self.as_of)))
        dealer = session.get(Dealer, dealer_id)
        steps.append(Step("dealer", ANONYMISED, int(profile_left(dealer) > 0), lambda: empty_profile(session, dealer_id)))
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
            or_(PrivacyRequest.export_expires_at.is_(None), PrivacyRequest.export_expires_at > self.as_of),  # type: ignore[arg-type]  # untyped Column model
        )

    def _export_files(self) -> Step:
        from app.privacy.requests.export_files import delete_exports_of

        session = self.session
        ids: list[int] = list(session.scalars(select(PrivacyRequest.id).where(*self._exports())))
        return Step("export_file", DELETED, len(ids), lambda: delete_exports_of(session, ids, reason="account_deleted"))

    def _account_export_requests(self) -> Step:
        """The admins' addresses on the account's closed export requests go with them."""
        from app.privacy.requests.erasure_rows import pseudonymise_request

        session = self.session
        ids: list[int] = list(
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
            note_rows(session, PrivacyRequest, ids, ledger.ANONYMISED)
            for request_id in ids:
                pseudonymise_request(session.get(PrivacyRequest, request_id))
            session.flush()

        return Step("privacy_request", ANONYMISED, len(ids), run)

    def _restrictions(self) -> list[Step]:
        """Kept business records: hidden from everyone but the privacy officer, read-only."""
        from app.privacy.requests.export_parts import account_tables

        session, steps = self.session, []
        models: list[Any] = list(account_tables())
        deleted = {m.__tablename__ for m in ACCOUNT_DATA} | {"page_view"}
        for model in models:
            table = model.__table__
            if table.name in deleted | KEPT_AFTER_ERASURE or "restricted_at" not in table.c or not owned_by_dealer(model):
                continue
            where = (model.dealer_id == self.dealer_id, model.restricted_at.is_(None))
            count = rows(session, model, *where)

            def run(model=model, where=where) -> None:
                note_rows(session, model, and_(*where), ledger.KEPT)
                session.execute(update(model.__table__).where(*where).values(restricted_at=self.as_of))

            steps.append(Step(table.name, RESTRICTED, count, run))
        return steps

    def verify(self) -> dict:
        """Counts of what must be gone; all zero or the deletion fails."""
        session, dealer_id = self.session, self.dealer_id
        dealer = dealer_of(session, dealer_id)
        return {
            "dealer_profile_values_left": profile_left(dealer),
            "users_not_anonymised": not_anonymised(session, self.user_ids),
            "user_addresses_left": addresses_left(session, self.addresses + self.profile_addresses, self.user_ids),
            "mail_to_user_addresses_left": rows(session, MailMessage, *self._mail()),
            "account_rows_left": {
                **{model.__tablename__: rows(session, model, model.dealer_id == dealer_id) for model in ACCOUNT_DATA},
                "page_view": rows(session, PageView, self._page_views()),
            },
            "export_files_left": rows(session, PrivacyRequest, *self._exports()),
        }


def profile_left(dealer: Any) -> int:
    """Profile values (and a real name or slug) still there."""
    values = sum(getattr(dealer, name) is not None for name in PROFILE_COLUMNS)
    return values + (dealer.business_name != _placeholder_name(dealer.id)) + (dealer.slug != f"terminated-{dealer.id}")


def _placeholder_name(dealer_id: int) -> str:
    return f"Terminated dealer #{dealer_id}"


def empty_profile(session: Session, dealer_id: int) -> None:
    """The profile emptied: a placeholder name and slug, no contact details."""
    values: dict[str, str | None] = {name: None for name in PROFILE_COLUMNS}
    values.update(business_name=_placeholder_name(dealer_id), slug=f"terminated-{dealer_id}")
    session.flush()
    session.execute(update(Dealer.__table__).where(Dealer.__table__.c.id == dealer_id).values(**values))
    session.expire_all()
