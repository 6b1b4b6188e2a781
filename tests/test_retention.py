"""Retention sweeps with a frozen clock: each deletes exactly what is due at ``as_of``
and nothing younger, a dry run counts exactly what the real run then applies and
changes nothing, a second run at the same ``as_of`` finds nothing more, and every real
run leaves a RetentionEvent. Also the `forecourt retention` command, the cron
registration, the jobs through the real queue, and the retention log page.

The sweeps work on the whole (shared) test database, so a test sweeps as of its own clock
long ago (``long_ago``), before any other test's rows, and back-dates its rows from it: the
counts are exactly its own. The two sweeps that look at the real clock (stray export files,
the reconciler of lost jobs) start from a clean run instead.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from flask_appbuilder.security.sqla.models import assoc_user_role
from flask_babel import force_locale
from sqlalchemy import delete, func, select

from app.domain.formatting import format_datetime
from app.domain.grants import DEALER_ADMIN, DEALER_STAFF
from app.models import (
    Car,
    CarStatus,
    Client,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    DealerStatus,
    DealerUser,
    ErasureLedgerEntry,
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestChannel,
    RequestStatus,
    RequestType,
    RetentionEvent,
    Sale,
    SaleStatus,
)
from app.models.base import utcnow
from app.privacy.lifecycle import retention, users
from app.privacy.requests import erasure_rows, intake
from tests.factories import uid
from tests.privacy_support import user_id
from tests.queue_support import run_queue

DAILY_SWEEPS = [
    "expired_exports",
    "inquiries",
    "usage_log",
    "mail_outbox",
    "import_batches",
    "erasure_ledger",
    "terminated_accounts",
    "business_records",
    "deactivated_users",
    "unconfirmed_requests",
    "closed_requests",
]
HOURLY_SWEEPS = ["deadline_reminders", "reconcile_requests"]
# Long before any row of the other test modules (see ``long_ago``).
LONG_AGO = datetime(1995, 3, 1, 12, 0, tzinfo=UTC)


# -- factories -------------------------------------------------------------------------


class Made:
    """What a test created, removed again afterwards (other tests see the demo data only)."""

    def __init__(self, db) -> None:
        self.db = db
        self.dealers: list[int] = []
        self.users: list[int] = []
        self.requests: list[int] = []

    def dealer(self, months: int = 24, status: DealerStatus = DealerStatus.active) -> Dealer:
        dealer = Dealer(
            slug=f"ret-{uid()}", business_name=f"Retention Motors {uid()}", country="DE", inquiry_retention_months=months, status=status
        )
        self.db.session.add(dealer)
        self.db.session.commit()
        self.dealers.append(dealer.id)
        return dealer

    def user(self, dealer: Dealer, role: str, language: str | None = None, active: bool = True) -> DealerUser:
        from app.provisioning import create_user

        name = f"ret-{uid()}"
        user = create_user(name, "retention-password", f"{name}@dealer.example", role, dealer.slug, language=language)
        self.users.append(user.id)
        if not active:
            user.active = False
            self.db.session.commit()
        return user

    def request(self, dealer: Dealer | None, filed_at: datetime) -> PrivacyRequest:
        request = intake.file_request(
            self.db.session,
            request_type=RequestType.access,
            email=f"person-{uid()}@example.org",
            dealer_id=dealer.id if dealer else None,
            channel=RequestChannel.officer,
            actor_id=user_id(self.db, "privacy"),
            now=filed_at,
        )
        self.db.session.commit()
        self.requests.append(request.id)
        return request

    def cleanup(self) -> None:
        session = self.db.session
        session.rollback()
        if self.dealers:  # with the account exports a termination files
            self.requests += list(session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.dealer_id.in_(self.dealers))))
        if self.requests:
            erasure_rows.delete_rows(session, PrivacyRequest, self.requests)
        if self.users:
            session.execute(delete(assoc_user_role).where(assoc_user_role.c.user_id.in_(self.users)))
            erasure_rows.delete_rows(session, DealerUser, self.users)
        if self.dealers:
            session.execute(delete(Sale).where(Sale.dealer_id.in_(self.dealers)))
            erasure_rows.delete_rows(session, Dealer, self.dealers)
        session.commit()


@pytest.fixture
def made(db):
    made = Made(db)
    yield made
    made.cleanup()


@pytest.fixture
def as_of():
    return utcnow()  # unique per test: the events of a test are found by it


_clocks = itertools.count()


@pytest.fixture
def long_ago():
    """A clock before any other test's rows, each test's six years before the last one's (a
    test back-dates its rows by four years at most): a sweep as of then finds only the rows
    this test made."""
    return LONG_AGO - next(_clocks) * relativedelta(years=6)


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    return tmp_path


def add_inquiry(db, dealer: Dealer, received_at: datetime, restricted: bool = False) -> int:
    inquiry = Inquiry(
        dealer_id=dealer.id,
        name=f"Visitor {uid()}",
        email=f"v-{uid()}@example.org",
        message="Still available?",
        received_at=received_at,
        restricted_at=received_at if restricted else None,
    )
    db.session.add(inquiry)
    db.session.commit()
    return inquiry.id


def add_sale(db, dealer: Dealer, client: Client, sale_date: date) -> int:
    serial = uuid.uuid4().int % 10**6
    car = Car(
        dealer=dealer,
        stock_number=f"RT{uid()}",
        vin=f"WVWZZZ1JZ3W{serial:06d}",
        make="Volkswagen",
        model="Golf",
        year=2019,
        mileage=42000,
        status=CarStatus.available,
        acquired_on=sale_date - timedelta(days=30),
    )
    db.session.add(car)
    db.session.flush()
    sale = Sale(
        dealer_id=dealer.id,
        deal_number=f"RT-{uid()}",
        car=car,
        buyer=client,
        price_minor=1_500_000,
        currency="EUR",
        sale_date=sale_date,
        status=SaleStatus.sold,
        restricted_at=utcnow() if client.is_erasure_placeholder else None,
    )
    db.session.add(sale)
    db.session.commit()
    return sale.id


def page_view(db, viewed_at: datetime) -> PageView:
    user = db.session.scalar(select(DealerUser).where(DealerUser.username == "north-motors-staff"))
    view = PageView(user_id=user.id, dealer_id=user.dealer_id, path=f"/carmodelview/list/?{uid()}", viewed_at=viewed_at)
    db.session.add(view)
    return view


def exists(db, model, pk) -> bool:
    db.session.expire_all()
    return db.session.get(model, pk) is not None


def event_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(RetentionEvent))


def sweep_events(db, name: str, as_of: datetime) -> list[RetentionEvent]:
    db.session.rollback()
    query = select(RetentionEvent).where(RetentionEvent.sweep == name, RetentionEvent.as_of == as_of).order_by(RetentionEvent.id)
    return list(db.session.scalars(query))


def dry_then_real(db, names: list[str], as_of: datetime) -> dict:
    """Dry run, then the real run: the same counts; the dry run writes nothing, not even an event."""
    events = event_count(db)
    dry = retention.run_sweeps(names, as_of=as_of, dry_run=True)
    assert event_count(db) == events
    real = retention.run_sweeps(names, as_of=as_of)
    assert dry == real
    return real


# -- the daily sweeps ------------------------------------------------------------------


def test_inquiries_older_than_the_dealer_setting_are_deleted_and_younger_ones_kept(db, made, long_ago):
    as_of = long_ago
    standard, short, ended = made.dealer(24), made.dealer(6), made.dealer(6, DealerStatus.terminated)

    two_years, six_months = as_of - relativedelta(months=24), as_of - relativedelta(months=6)
    old = add_inquiry(db, standard, two_years - timedelta(days=1))
    young = add_inquiry(db, standard, two_years + timedelta(days=1))
    restricted = add_inquiry(db, standard, two_years - timedelta(days=300), restricted=True)
    short_old = add_inquiry(db, short, six_months - timedelta(days=1))
    short_young = add_inquiry(db, short, six_months + timedelta(days=1))
    of_ended_dealer = add_inquiry(db, ended, six_months - timedelta(days=100))
    consent = ConsentRecord(
        dealer_id=standard.id,
        inquiry_id=old,
        email="v@example.org",
        purpose=ConsentPurpose.privacy_notice,
        action=ConsentAction.acknowledged,
        method=ConsentMethod.inquiry_form,
        source="/d/x/inquiry",
        recorded_at=two_years,
    )
    client = Client(dealer_id=standard.id, first_name="Vera", last_name="Visitor", email="v@example.org")
    db.session.add_all([consent, client])
    db.session.flush()
    client_consent = ConsentRecord(
        dealer_id=standard.id,
        inquiry_id=old,
        client_id=client.id,
        email="v@example.org",
        purpose=ConsentPurpose.marketing,
        action=ConsentAction.given,
        method=ConsentMethod.inquiry_form,
        source="/d/x/inquiry",
        recorded_at=two_years,
    )
    db.session.add(client_consent)
    db.session.commit()
    consent_id, client_consent_id = consent.id, client_consent.id

    dry = retention.run_sweeps(["inquiries"], as_of=as_of, dry_run=True)
    assert dry == {"inquiries": {"inquiry": {"deleted": 2, "kept_restricted": 1}, "consent_record": {"deleted": 1}}}
    assert all(exists(db, Inquiry, pk) for pk in (old, short_old))  # a dry run changes nothing
    assert sweep_events(db, "inquiries", as_of) == []

    assert retention.run_sweeps(["inquiries"], as_of=as_of) == dry
    assert not exists(db, Inquiry, old) and not exists(db, Inquiry, short_old)
    for pk in (young, restricted, short_young, of_ended_dealer):
        assert exists(db, Inquiry, pk)
    # The inquiry's acknowledgement goes with it; a client's consent keeps its proof and
    # loses only the link to the deleted inquiry.
    db.session.expire_all()
    assert db.session.get(ConsentRecord, consent_id) is None
    kept_consent = db.session.get(ConsentRecord, client_consent_id)
    assert kept_consent is not None and kept_consent.inquiry_id is None

    again = retention.run_sweeps(["inquiries"], as_of=as_of)
    assert again == {"inquiries": {"inquiry": {"kept_restricted": 1}}}  # nothing more to delete
    events = sweep_events(db, "inquiries", as_of)
    assert [e.summary for e in events] == [dry["inquiries"], again["inquiries"]]
    assert all(e.kind == "sweep" and not e.dry_run for e in events)


def test_usage_log_and_erasure_ledger_are_kept_90_days(db, long_ago):
    names, as_of = ["usage_log", "erasure_ledger"], long_ago
    cutoff = as_of - timedelta(days=90)
    views = [page_view(db, cutoff + delta) for delta in (timedelta(days=-1), timedelta(days=1))]
    ledger = [
        ErasureLedgerEntry(subject_key=uid(), table_name="client", row_pk="1", action="delete", at=cutoff + delta)
        for delta in (timedelta(days=-1), timedelta(days=1))
    ]
    db.session.add_all(ledger)
    db.session.commit()
    view_ids, ledger_ids = [v.id for v in views], [e.id for e in ledger]

    real = dry_then_real(db, names, as_of)
    assert real == {"usage_log": {"page_view": {"deleted": 1}}, "erasure_ledger": {"erasure_ledger": {"deleted": 1}}}
    assert not exists(db, PageView, view_ids[0]) and exists(db, PageView, view_ids[1])
    assert not exists(db, ErasureLedgerEntry, ledger_ids[0]) and exists(db, ErasureLedgerEntry, ledger_ids[1])
    assert retention.run_sweeps(names, as_of=as_of) == {"usage_log": {}, "erasure_ledger": {}}
    assert [e.summary for e in sweep_events(db, "usage_log", as_of)] == [{"page_view": {"deleted": 1}}, {}]


def test_sent_mail_is_kept_90_days_and_unsent_mail_stays_for_the_resend(db, long_ago):
    as_of = long_ago
    cutoff = as_of - timedelta(days=90)

    def mail(sent_at):
        message = MailMessage(
            kind="verification",
            to_address="m@example.org",
            subject="s",
            body_text="b",
            created_at=cutoff - timedelta(days=5),
            sent_at=sent_at,
        )
        db.session.add(message)
        return message

    old, young, unsent = mail(cutoff - timedelta(days=1)), mail(cutoff + timedelta(days=1)), mail(None)
    db.session.commit()
    ids = old.id, young.id, unsent.id

    assert dry_then_real(db, ["mail_outbox"], as_of) == {"mail_outbox": {"mail_message": {"deleted": 1}}}
    assert [exists(db, MailMessage, pk) for pk in ids] == [False, True, True]
    assert retention.run_sweeps(["mail_outbox"], as_of=as_of) == {"mail_outbox": {}}


def test_expired_export_files_and_stray_files_are_deleted(app, db, made, store, as_of):
    # Stray files are judged by the real clock, so this test keeps it and starts clean.
    retention.run_sweeps(["expired_exports"], as_of=as_of)
    directory = store / "exports"
    directory.mkdir(exist_ok=True)
    packages = {}
    for name, expires in (("expired", as_of - timedelta(days=1)), ("valid", as_of + timedelta(days=1))):
        request = made.request(None, as_of - timedelta(days=10))
        path = directory / f"{name}-{request.id}.zip"
        path.write_bytes(b"PK")
        request.export_path, request.export_expires_at, request.export_sha256 = f"exports/{path.name}", expires, "0" * 64
        packages[name] = (request.id, path)
    db.session.commit()
    stale, fresh = directory / "stray.zip.part", directory / "writing.zip.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))

    real = dry_then_real(db, ["expired_exports"], as_of)
    assert real == {"expired_exports": {"export_file": {"deleted": 1, "orphan_deleted": 1}}}
    expired_id, expired_path = packages["expired"]
    assert not expired_path.exists() and not stale.exists()
    assert packages["valid"][1].exists() and fresh.exists()
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, expired_id).export_path is None
    deleted = db.session.scalars(
        select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == expired_id, PrivacyRequestEvent.kind == "export_deleted")
    ).all()
    assert [e.data["reason"] for e in deleted] == ["expired"]
    assert retention.run_sweeps(["expired_exports"], as_of=as_of) == {"expired_exports": {}}


def test_sales_kept_after_an_erasure_go_when_their_three_years_end(db, made, long_ago):
    as_of = long_ago
    shared, alone = made.dealer(), made.dealer()
    placeholder = erasure_rows.placeholder_client(db.session, shared.id)
    lone_placeholder = erasure_rows.placeholder_client(db.session, alone.id)
    customer = Client(dealer_id=shared.id, first_name="Karl", last_name=f"Kunde{uid()}")
    db.session.add(customer)
    db.session.commit()
    placeholder_id, lone_id = placeholder.id, lone_placeholder.id
    three_years = as_of.date() - relativedelta(years=3)
    due = add_sale(db, shared, placeholder, three_years - timedelta(days=1))
    not_yet = add_sale(db, shared, placeholder, three_years + timedelta(days=1))
    lone_due = add_sale(db, alone, lone_placeholder, three_years - timedelta(days=1))
    customers_sale = add_sale(db, shared, customer, three_years - timedelta(days=400))  # not an erased person's

    real = dry_then_real(db, ["business_records"], as_of)
    assert real == {"business_records": {"client": {"deleted": 1}, "sale": {"deleted": 2}}}
    assert not exists(db, Sale, due) and not exists(db, Sale, lone_due)
    assert exists(db, Sale, not_yet) and exists(db, Sale, customers_sale)
    assert exists(db, Client, placeholder_id)  # still the buyer of a kept sale
    assert not exists(db, Client, lone_id)  # nothing points at it any more
    assert retention.run_sweeps(["business_records"], as_of=as_of) == {"business_records": {}}


def test_a_deactivated_user_is_anonymised_after_30_days(db, made, long_ago):
    as_of = long_ago
    dealer = made.dealer()
    gone, recent = made.user(dealer, DEALER_STAFF), made.user(dealer, DEALER_STAFF)
    for user, days in ((gone, 31), (recent, 29)):
        user.active, user.deactivated_at = False, as_of - timedelta(days=days)
    db.session.commit()
    gone_id, recent_id = gone.id, recent.id

    real = dry_then_real(db, ["deactivated_users"], as_of)
    assert real == {"deactivated_users": {"ab_user": {"anonymised": 1}}}
    db.session.expire_all()
    assert db.session.get(DealerUser, gone_id).username == f"former-user-{gone_id}"
    assert db.session.get(DealerUser, recent_id).username.startswith("ret-")
    assert retention.run_sweeps(["deactivated_users"], as_of=as_of) == {"deactivated_users": {}}


def test_a_failing_unit_is_counted_and_the_others_go_ahead(db, made, long_ago, monkeypatch):

    as_of = long_ago
    dealer = made.dealer()
    broken, fine = made.user(dealer, DEALER_STAFF), made.user(dealer, DEALER_STAFF)
    for user in (broken, fine):
        user.active, user.deactivated_at = False, as_of - timedelta(days=40)
    db.session.commit()
    broken_id, fine_id = broken.id, fine.id
    real_anonymise = users.anonymise_user

    def anonymise(session, user_id, as_of, dry_run=False):
        counts = real_anonymise(session, user_id, as_of, dry_run=dry_run)
        if user_id == broken_id:
            raise RuntimeError("disk full")  # after its changes: they must be rolled back
        return counts

    monkeypatch.setattr(users, "anonymise_user", anonymise)
    with pytest.raises(retention.SweepsFailed) as failure:
        retention.run_sweeps(["deactivated_users"], as_of=as_of)
    assert failure.value.results == {"deactivated_users": {"ab_user": {"anonymised": 1, "failed": 1}}}
    (event,) = sweep_events(db, "deactivated_users", as_of)
    assert event.kind == "sweep_failed" and event.summary == {"ab_user": {"anonymised": 1, "failed": 1}}
    db.session.expire_all()
    assert db.session.get(DealerUser, broken_id).anonymised_at is None
    assert db.session.get(DealerUser, fine_id).anonymised_at is not None


def sweep_lines(output: str, name: str) -> list[str]:
    """The lines the command printed for one sweep."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {name} ("))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


def test_a_terminated_account_is_deleted_on_day_30_as_the_dry_run_reported(app, db, made, long_ago):
    from app.privacy.lifecycle.termination import terminate_dealer

    terminated_at = long_ago  # nobody else's account is due then
    # Day 30 starts at 00:00 UTC: the day's cron run (and `--as-of <day>`) finds it.
    day_30 = datetime.combine(terminated_at.date() + timedelta(days=30), datetime.min.time(), tzinfo=UTC)
    day_29 = day_30 - timedelta(seconds=1)
    dealer = made.dealer()
    admin = made.user(dealer, DEALER_ADMIN, language="de")
    inquiry = add_inquiry(db, dealer, terminated_at - timedelta(days=3))
    buyer = Client(dealer_id=dealer.id, first_name="Berta", last_name=f"Buyer{uid()}")
    db.session.add(buyer)
    db.session.commit()
    sale = add_sale(db, dealer, buyer, terminated_at.date() - timedelta(days=100))
    terminate_dealer(db.session, dealer.id, actor_id=user_id(db, "staff"), reason="Contract ended", now=terminated_at)
    db.session.commit()
    dealer_id, admin_id = dealer.id, admin.id

    runner = app.test_cli_runner()
    command = ["forecourt", "retention", "--only", "terminated_accounts", "--as-of"]
    early = runner.invoke(args=[*command, day_29.isoformat(), "--dry-run"])
    assert early.exit_code == 0, early.output
    assert sweep_lines(early.output, "terminated_accounts") == ["  terminated_accounts (daily): nothing due"]

    dry = runner.invoke(args=[*command, day_30.date().isoformat(), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    reported = sweep_lines(dry.output, "terminated_accounts")
    assert "    inquiry: deleted 1" in reported and any(line.startswith("    ab_user: anonymised") for line in reported)
    assert exists(db, Inquiry, inquiry) and db.session.get(Dealer, dealer_id).account_deleted_at is None
    planned = retention.run_sweeps(["terminated_accounts"], as_of=day_30, dry_run=True)["terminated_accounts"]
    assert planned["inquiry"] == {"deleted": 1}

    real = runner.invoke(args=[*command, day_30.date().isoformat()])
    assert real.exit_code == 0, real.output
    assert "DRY RUN" not in real.output and sweep_lines(real.output, "terminated_accounts") == reported
    db.session.expire_all()
    assert db.session.get(Dealer, dealer_id).account_deleted_at is not None
    assert not exists(db, Inquiry, inquiry)
    assert db.session.get(Sale, sale).restricted_at is not None  # a business record: kept, restricted
    assert db.session.get(DealerUser, admin_id).anonymised_at is not None
    again = runner.invoke(args=[*command, day_30.isoformat()])
    assert sweep_lines(again.output, "terminated_accounts") == ["  terminated_accounts (daily): nothing due"]
    assert [e.summary for e in sweep_events(db, "terminated_accounts", day_30)][-2:] == [planned, {}]


def test_a_dry_run_of_all_sweeps_reports_what_the_real_run_does_with_no_row_counted_twice(app, db, made, store, long_ago):
    """Rows a terminated dealer shares with other sweeps (its export expiring at day 30,
    page views and sent mail past their retention) are counted by one sweep only."""
    from app.privacy.lifecycle.termination import terminate_dealer

    terminated_at = long_ago  # nothing of anybody else's is due then
    day_30 = datetime.combine(terminated_at.date() + timedelta(days=30), datetime.min.time(), tzinfo=UTC)
    dealer = made.dealer()
    admin = made.user(dealer, DEALER_ADMIN, language="en")
    old, recent = day_30 - timedelta(days=100), terminated_at - timedelta(days=1)
    for when in (old, recent):
        db.session.add(PageView(user_id=admin.id, dealer_id=dealer.id, path=f"/carmodelview/list/?{uid()}", viewed_at=when))
        db.session.add(
            MailMessage(kind="test", to_address=admin.email, language="en", subject="Hi", body_text="Hi", created_at=when, sent_at=when)
        )
    db.session.commit()
    terminate_dealer(db.session, dealer.id, actor_id=admin.id, reason=None, now=terminated_at)
    db.session.commit()
    run_queue(app)  # the account export, and the notices sent
    export = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.dealer_id == dealer.id))
    assert export.export_path and export.export_expires_at == day_30

    dry = retention.run_sweeps("all", as_of=day_30, dry_run=True)
    real = retention.run_sweeps("all", as_of=day_30)
    assert dry == real
    assert real["expired_exports"]["export_file"] == {"deleted": 1} and "export_file" not in real["terminated_accounts"]
    assert real["usage_log"]["page_view"] == {"deleted": 1} and real["terminated_accounts"]["page_view"] == {"deleted": 1}
    assert real["mail_outbox"]["mail_message"] == {"deleted": 1}
    # The recent mail, the termination notice and the export's link: emptied, not deleted.
    assert real["terminated_accounts"]["mail_message"] == {"anonymised": 3}
    assert real["terminated_accounts"]["ab_user"] == {"anonymised": 1} and real["deactivated_users"] == {}
    db.session.expire_all()
    assert db.session.get(Dealer, dealer.id).account_deleted_at == day_30
    assert retention.run_sweeps(["terminated_accounts", "usage_log", "mail_outbox", "expired_exports"], as_of=day_30) == {
        "expired_exports": {},
        "usage_log": {},
        "mail_outbox": {},
        "terminated_accounts": {},
    }


# -- the hourly sweeps -----------------------------------------------------------------


def reminders(db, reference: str) -> list[MailMessage]:
    db.session.rollback()
    query = select(MailMessage).where(MailMessage.kind == "deadline_reminder", MailMessage.subject.contains(reference))
    return list(db.session.scalars(query.order_by(MailMessage.id)))


def reminder_states(db, request_id: int) -> list[str]:
    query = select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == request_id, PrivacyRequestEvent.kind == "deadline_reminder")
    return [e.data["state"] for e in db.session.scalars(query.order_by(PrivacyRequestEvent.id))]


def test_deadline_reminders_go_once_per_state_in_each_recipients_language(app, db, made, long_ago):
    as_of = long_ago
    dealer = made.dealer()
    german = made.user(dealer, DEALER_ADMIN, language="de")
    ukrainian = made.user(dealer, DEALER_ADMIN, language="uk")
    made.user(dealer, DEALER_ADMIN, language="de", active=False)
    made.user(dealer, DEALER_STAFF, language="de")
    due_soon = made.request(dealer, as_of - timedelta(days=27))  # due in 3 days
    overdue = made.request(None, as_of - timedelta(days=31))  # the whole platform's, a day late
    on_time = made.request(dealer, as_of - timedelta(days=20))  # due in 10 days
    closed = made.request(dealer, as_of - timedelta(days=40))
    intake.cancel(db.session, closed, now=as_of)
    db.session.commit()
    soon_ref, overdue_ref, soon_id = due_soon.reference, overdue.reference, due_soon.id

    real = dry_then_real(db, ["deadline_reminders"], as_of)
    assert real == {
        "deadline_reminders": {"mail_message": {"queued": 4}, "privacy_request": {"reminded_due_soon": 1, "reminded_overdue": 1}}
    }
    officer = app.config["PRIVACY_OFFICER_EMAIL"]
    sent = {m.to_address: m for m in reminders(db, soon_ref)}
    assert set(sent) == {officer, german.email, ukrainian.email}
    assert (sent[officer].language, sent[german.email].language, sent[ukrainian.email].language) == ("en", "de", "uk")
    request = db.session.get(PrivacyRequest, soon_id)
    for address, language in ((german.email, "de"), (ukrainian.email, "uk"), (officer, "en")):
        with force_locale(language):
            assert format_datetime(request.due_at) in sent[address].body_text
        assert f'lang="{language}"' in sent[address].body_html
        assert f"/privacyrequestview/show/{soon_id}" in sent[address].body_text
        assert sent[address].request_id is None  # a staff mail, not the person's data
    with force_locale("de"):
        assert format_datetime(request.due_at) not in sent[officer].body_text
    assert [m.to_address for m in reminders(db, overdue_ref)] == [officer]
    assert reminders(db, on_time.reference) == [] and reminders(db, closed.reference) == []

    assert retention.run_sweeps(["deadline_reminders"], as_of=as_of) == {"deadline_reminders": {}}
    assert retention.run_sweeps(["deadline_reminders"], as_of=as_of + timedelta(hours=1)) == {"deadline_reminders": {}}
    assert len(reminders(db, soon_ref)) == 3

    # Four days later the same request is overdue: one more reminder, then none again.
    later = as_of + timedelta(days=4)
    retention.run_sweeps(["deadline_reminders"], as_of=later)
    retention.run_sweeps(["deadline_reminders"], as_of=later)
    assert reminder_states(db, soon_id) == ["due_soon", "overdue"]
    mails = reminders(db, soon_ref)
    assert len(mails) == 6
    assert {m.language for m in mails[3:]} == {"en", "de", "uk"}
    assert mails[0].subject.startswith("Reminder") and next(m.subject for m in mails[3:] if m.language == "en").startswith("Overdue")


def test_the_reconciler_re_enqueues_a_request_whose_job_was_lost(app, db, made, as_of):
    from app.queueing import has_live_job, request_job_id

    # The reconciler looks at the whole database, whatever the clock: it starts clean.
    retention.run_sweeps(["reconcile_requests"], as_of=as_of)
    run_queue(app)
    request = made.request(None, as_of - timedelta(days=1))
    intake.start(db.session, request, phase="queued", now=as_of)  # asked for, but never enqueued
    db.session.commit()
    assert not has_live_job(request_job_id(request.id))

    real = dry_then_real(db, ["reconcile_requests"], as_of)
    assert real == {"reconcile_requests": {"privacy_request": {"re_enqueued": 1}}}
    assert has_live_job(request_job_id(request.id))
    assert retention.run_sweeps(["reconcile_requests"], as_of=as_of) == {"reconcile_requests": {}}
    run_queue(app)
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request.id).status is RequestStatus.completed


# -- running them ----------------------------------------------------------------------


def test_the_registry_names_every_sweep_with_its_schedule():
    assert [s.name for s in retention.select_sweeps("daily")] == DAILY_SWEEPS
    assert [s.name for s in retention.select_sweeps("hourly")] == HOURLY_SWEEPS
    assert list(retention.SWEEPS) == DAILY_SWEEPS + HOURLY_SWEEPS


def test_a_failing_sweep_is_recorded_and_the_others_still_run(db, as_of, monkeypatch):
    def broken(session, as_of, dry_run):
        raise ZeroDivisionError

    monkeypatch.setitem(retention.SWEEPS, "usage_log", retention.Sweep("usage_log", "daily", "broken", broken))
    with pytest.raises(retention.SweepsFailed) as failure:
        retention.run_sweeps(["usage_log", "erasure_ledger"], as_of=as_of)
    assert failure.value.failed == ["usage_log"] and "erasure_ledger" in failure.value.results
    (event,) = sweep_events(db, "usage_log", as_of)
    assert event.kind == "sweep_failed" and event.summary == {"error": "ZeroDivisionError"}
    assert [e.kind for e in sweep_events(db, "erasure_ledger", as_of)] == ["sweep"]


def test_the_command_prints_what_it_would_do_then_does_it(app, db, made, long_ago):
    runner = app.test_cli_runner()
    day = long_ago.date()
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    dealer = made.dealer(6)
    args = ["forecourt", "retention", "--as-of", day.isoformat(), "--only", "inquiries", "--only", "usage_log"]
    old = add_inquiry(db, dealer, midnight - relativedelta(months=6) - timedelta(days=1))
    young = add_inquiry(db, dealer, midnight - relativedelta(months=6) + timedelta(days=1))

    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (f"DRY RUN: nothing was changed. Retention sweeps as of {midnight.isoformat()} would do:") in dry.output
    assert "  inquiries (daily):\n    inquiry: deleted 1\n" in dry.output
    assert "  usage_log (daily): nothing due" in dry.output
    assert exists(db, Inquiry, old)

    real = runner.invoke(args=args)
    assert real.exit_code == 0, real.output
    assert "DRY RUN" not in real.output and f"Retention sweeps as of {midnight.isoformat()} did:" in real.output
    assert "  inquiries (daily):\n    inquiry: deleted 1\n" in real.output
    assert not exists(db, Inquiry, old) and exists(db, Inquiry, young)
    assert [e.summary for e in sweep_events(db, "inquiries", midnight)][-1] == {"inquiry": {"deleted": 1}}


def test_the_command_runs_every_sweep_and_takes_a_full_date_time(app, db):
    when = utcnow().replace(microsecond=0)
    result = app.test_cli_runner().invoke(args=["forecourt", "retention", "--as-of", when.isoformat(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"as of {when.isoformat()}" in result.output
    for name in DAILY_SWEEPS + HOURLY_SWEEPS:
        assert f"  {name} (" in result.output


@pytest.mark.parametrize("args", [["--as-of", "2026-02-30"], ["--as-of", "next tuesday"], ["--only", "everything"]])
def test_the_command_refuses_a_bad_date_or_sweep(app, db, args):
    events = event_count(db)
    result = app.test_cli_runner().invoke(args=["forecourt", "retention", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert event_count(db) == events


def test_the_cron_process_schedules_the_sweeps(app):
    from jobs.worker import build_cron

    with app.app_context():
        jobs = {job.name: job for job in build_cron(app).get_jobs()}
    assert jobs["retention-daily"].func_name == "jobs.retention.run_daily_sweeps"
    assert jobs["retention-daily"].cron == "40 3 * * *"
    assert jobs["retention-hourly"].func_name == "jobs.retention.run_hourly_sweeps"
    assert jobs["retention-hourly"].cron == "7 * * * *"
    assert {"clean-job-registries", "resend-unsent-mail"} <= set(jobs)
    assert not {"delete-expired-exports", "reconcile-privacy-requests"} & set(jobs)


def test_the_sweep_jobs_run_through_the_real_queue(app, db):
    from app.extensions import get_queue

    old_view = page_view(db, utcnow() - timedelta(days=91))
    db.session.commit()
    view_id, started = old_view.id, utcnow()
    queue = get_queue()
    daily = queue.enqueue("jobs.retention.run_daily_sweeps")
    hourly = queue.enqueue("jobs.retention.run_hourly_sweeps")
    run_queue(app)
    assert daily.get_status(refresh=True) == "finished", daily.latest_result().exc_string
    assert hourly.get_status(refresh=True) == "finished", hourly.latest_result().exc_string
    assert not exists(db, PageView, view_id)  # ours; the real clock's sweep takes whatever else is due
    db.session.rollback()
    recorded = db.session.scalars(select(RetentionEvent).where(RetentionEvent.occurred_at >= started, RetentionEvent.kind == "sweep"))
    summaries = {event.sweep: event.summary for event in recorded}
    assert set(summaries) == set(DAILY_SWEEPS + HOURLY_SWEEPS)
    assert {name: summaries[name] for name in DAILY_SWEEPS} == daily.return_value()  # what the job returned was recorded


# -- the retention log -----------------------------------------------------------------


def test_the_retention_log_is_for_the_privacy_officer_and_admin(db, login, long_ago):
    as_of = long_ago
    page_view(db, as_of - timedelta(days=200))
    db.session.commit()
    retention.run_sweeps(["usage_log"], as_of=as_of)
    (event,) = sweep_events(db, "usage_log", as_of)
    assert event.summary == {"page_view": {"deleted": 1}}

    for username in ("privacy", "admin"):
        browser = login(username)
        assert "Retention log" in browser.get("/").get_data(as_text=True)
        listing = browser.get("/retentionlog/list/")
        assert listing.status_code == 200
        html = listing.get_data(as_text=True)
        assert "<code>page_view</code>: deleted 1" in html and "Usage log entries past their retention period" in html
        shown = browser.get(f"/retentionlog/show/{event.id}")
        assert shown.status_code == 200 and "<code>page_view</code>: deleted 1" in shown.get_data(as_text=True)
        for url in ("/retentionlog/add", f"/retentionlog/edit/{event.id}", f"/retentionlog/delete/{event.id}"):
            assert browser.get(url).status_code in (302, 403, 404, 405)
    for username in ("north-motors-admin", "staff"):
        browser = login(username)
        assert "Retention log" not in browser.get("/").get_data(as_text=True)
        assert browser.get("/retentionlog/list/").status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(RetentionEvent, event.id).summary == {"page_view": {"deleted": 1}}
