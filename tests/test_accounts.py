"""A dealer account's end (termination, the account export, day 30, 3 years) and the
anonymisation of deactivated users — with a frozen clock passed as ``now``/``as_of``,
through the real queue and HTTP. Every test makes its own dealer: the demo dealers stay."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from app.domain import DomainError
from app.models import (
    Car,
    CarCost,
    Client,
    ConsentRecord,
    Dealer,
    DealerSocialLink,
    DealerStatus,
    Disclosure,
    Inquiry,
    MailMessage,
    PageView,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestStatus,
    RequestType,
    RetentionEvent,
    Sale,
)
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.lifecycle import account_deletion, account_export, records, steps, termination, users
from app.privacy.requests.export_files import export_file
from config import DEMO_PASSWORD
from tests.factories import Account, make_account, uid
from tests.privacy_support import reload, user_id
from tests.queue_support import run_queue

DAY = timedelta(days=1)


def midnight(day: date) -> datetime:
    """00:00 UTC of the day: when a step due that day becomes due."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def rows(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def snapshot(db, a: Account) -> dict:
    db.session.expire_all()
    dealer = db.session.get(Dealer, a.dealer_id)
    return {
        "dealer": (dealer.business_name, dealer.slug, dealer.email, dealer.phone, dealer.account_deleted_at, dealer.records_erased_at),
        "users": [
            (u.username, u.email, u.anonymised_at)
            for u in db.session.scalars(select(DealerUser).where(DealerUser.dealer_id == a.dealer_id))
        ],
        **{
            m.__tablename__: rows(db, m, dealer_id=a.dealer_id)
            for m in (Car, CarCost, Client, Sale, Inquiry, ConsentRecord, Disclosure, DealerSocialLink, PageView)
        },
        "restricted": rows(db, Client, dealer_id=a.dealer_id)
        - db.session.scalar(
            select(func.count()).select_from(Client).where(Client.dealer_id == a.dealer_id, Client.restricted_at.is_(None))
        ),
    }


def events(db, dealer_id: int, kind: str) -> list[RetentionEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(RetentionEvent).where(RetentionEvent.dealer_id == dealer_id, RetentionEvent.kind == kind)))


def mails(db, kind: str, to: str) -> list[MailMessage]:
    return list(db.session.scalars(select(MailMessage).where(MailMessage.kind == kind, MailMessage.to_address == to)))


def terminate(db, a: Account, now, actor: int | None = None, reason: str | None = None) -> RetentionEvent:
    event = termination.terminate_dealer(db.session, a.dealer_id, actor if actor is not None else a.admin_id, reason, now=now)
    db.session.commit()
    return event


def link_path(url: str) -> str:
    return url[url.index("/privacy/download/") :]


def zip_of(db, request_id: int) -> zipfile.ZipFile:
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    return zipfile.ZipFile(io.BytesIO(export_file(request).read_bytes()))


@pytest.fixture(scope="module")
def officer_admin(app):
    """An Admin who is also the privacy officer: the only one who sees restricted rows."""
    with app.app_context():
        sm = app.appbuilder.sm
        username = f"acct-officer-{uid()}"
        sm.add_user(
            username,
            "Olga",
            "Officer",
            f"{username}@forecourt.example",
            [sm.find_role("Admin"), sm.find_role("PrivacyOfficer")],
            password=DEMO_PASSWORD,
        )
    return username


# -- termination --------------------------------------------------------------------------------


def test_termination_deactivates_every_user_at_once_and_cannot_be_repeated(app, db, login):
    a = make_account(db)
    now = utcnow().replace(microsecond=0)
    event = terminate(db, a, now, reason="Closing the business")

    db.session.expire_all()
    dealer = db.session.get(Dealer, a.dealer_id)
    assert dealer.status is DealerStatus.terminated and dealer.terminated_at == now
    assert dealer.account_deletion_due_at == midnight(now.date() + timedelta(days=30))
    assert dealer.records_erasure_due_at == midnight(now.date() + relativedelta(years=3))
    for uid_ in (a.admin_id, a.staff_id):
        user = db.session.get(DealerUser, uid_)
        assert user.active is False and user.deactivated_at == now
    assert event.kind == "account_terminated" and event.summary["ab_user"] == {"deactivated": 2}
    assert event.certificate["requested_by"] == "dealer_admin"
    [notice] = mails(db, "account_terminated", db.session.get(DealerUser, a.admin_id).email)
    assert notice.language == "de"
    assert dealer.business_name in notice.body_text
    export = account_export.export_in_progress(db.session, a.dealer_id)
    assert export is not None and export.request_type is RequestType.account_export and export.status is RequestStatus.in_progress

    with pytest.raises(DomainError):
        termination.terminate_dealer(db.session, a.dealer_id, a.admin_id, None, now=now + DAY)
    db.session.rollback()
    user = db.session.get(DealerUser, a.staff_id)
    user.active = True
    with pytest.raises(DomainError):
        db.session.commit()
    db.session.rollback()

    browser = login(None)
    browser.username = a.admin
    browser.login()
    assert browser.get("/account/").status_code == 302  # the login failed: not signed in
    run_queue(app)


def test_a_deactivation_is_stamped_and_cleared_by_the_flush_rule(db):
    a = make_account(db)
    user = db.session.get(DealerUser, a.staff_id)
    user.active = False
    db.session.commit()
    assert db.session.get(DealerUser, a.staff_id).deactivated_at is not None
    user = db.session.get(DealerUser, a.staff_id)
    user.active = True
    db.session.commit()
    assert db.session.get(DealerUser, a.staff_id).deactivated_at is None


# -- the account export -------------------------------------------------------------------------


def test_the_account_export_holds_all_of_the_dealers_data_and_nothing_else(app, db):
    a = make_account(db)
    request = account_export.request_account_export(db.session, a.dealer_id, a.admin_id)
    db.session.commit()
    with pytest.raises(DomainError):  # one at a time
        account_export.request_account_export(db.session, a.dealer_id, a.admin_id)
    db.session.rollback()
    run_queue(app)

    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed and request.export_path
    assert request.export_expires_at - request.export_created_at == app.config["PRIVACY_EXPORT_TTL"]
    archive = zip_of(db, request.id)
    names = set(archive.namelist())
    for table in (
        "dealer",
        "ab_user",
        "car",
        "car_cost",
        "client",
        "inquiry",
        "sale",
        "consent_record",
        "disclosure",
        "dealer_social_link",
        "page_view",
        "privacy_request",
        "car_price_change",
        "car_status_change",
    ):
        assert {f"{table}.json", f"{table}.csv"} <= names, table
    assert {"manifest.json", "summary.html"} <= names

    data = {name[:-5]: json.loads(archive.read(name)) for name in names if name.endswith(".json") and name != "manifest.json"}
    assert [row["id"] for row in data["dealer"]] == [a.dealer_id]
    assert {row["id"] for row in data["ab_user"]} == {a.admin_id, a.staff_id}
    for table, table_rows in data.items():
        if table != "dealer":
            assert table_rows and all(row["dealer_id"] == a.dealer_id for row in table_rows), table
    assert all("password" not in row for row in data["ab_user"])
    everything = b"".join(archive.read(name) for name in names)
    assert b"pbkdf2:" not in everything and b"scrypt:" not in everything
    assert {row["id"] for row in data["client"]} == {a.client_id}  # the restricted one is left out

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["request"]["type"] == "account_export" and manifest["dealer_id"] == a.dealer_id
    assert manifest["restricted_rows_left_out"] == {"change_history": 1, "client": 1}  # its history (the insert) with it
    import hashlib

    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    summary = archive.read("summary.html").decode()
    assert db.session.get(Dealer, a.dealer_id).business_name in summary and request.reference in summary
    csv_text = archive.read("car.csv").decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("id,") and "Golf" in csv_text

    admin_email = db.session.get(DealerUser, a.admin_id).email
    [ready] = mails(db, "account_export_ready", admin_email)
    assert ready.language == "de" and "/privacy/download/" in ready.body_text


# -- termination to day 30 ---------------------------------------------------------------------


def test_a_terminated_admin_downloads_the_export_by_the_signed_link_until_day_30_and_not_after(app, db, monkeypatch):
    from itsdangerous.timed import TimestampSigner

    from app.privacy.links import DOWNLOAD, make_token

    a = make_account(db, language="en")
    now = utcnow() - timedelta(days=29)  # terminated 29 days ago: one day left
    terminate(db, a, now)
    run_queue(app)

    db.session.expire_all()
    dealer = db.session.get(Dealer, a.dealer_id)
    [request] = account_export.account_exports(db.session, a.dealer_id)
    assert request.status is RequestStatus.completed
    assert request.export_expires_at == dealer.account_deletion_due_at  # not 7 days
    admin = db.session.get(DealerUser, a.admin_id)
    assert admin.active is False
    [ready] = mails(db, "account_export_ready", admin.email)
    url = re.search(r"http\S+/privacy/download/\S+", ready.body_text).group(0)

    anonymous = app.test_client()
    response = anonymous.get(link_path(url))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "dealer.json" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    # The link of an account package outlives the 7 days of a person's export.
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int((utcnow() - timedelta(days=20)).timestamp()))
        old_link = make_token(DOWNLOAD, request.id, bound_to=request.export_sha256)
    assert anonymous.get(f"/privacy/download/{old_link}").status_code == 200

    from app.privacy.lifecycle import retention

    # Day 30's cron run: the export expires at 00:00 and its own sweep deletes it.
    path, due = export_file(request), dealer.account_deletion_due_at
    retention.run_sweeps(["expired_exports"], as_of=due)  # (it sweeps every package due then)
    assert not path.exists() and reload(db, request.id).export_path is None
    query = select(PrivacyRequestEvent.data).where(
        PrivacyRequestEvent.request_id == request.id, PrivacyRequestEvent.kind == "export_deleted"
    )
    assert [data["reason"] for data in db.session.scalars(query)] == ["expired"]
    account_deletion.delete_account(db.session, a.dealer_id, due)
    db.session.commit()
    assert anonymous.get(link_path(url)).status_code == 410

    # A dealer terminated 31 days ago whose day 30 has not been swept: the link is dead too.
    late = make_account(db, language="en")
    terminate(db, late, utcnow() - timedelta(days=31))
    run_queue(app)
    db.session.expire_all()
    late_admin = db.session.get(DealerUser, late.admin_id)
    [ready] = mails(db, "account_export_ready", late_admin.email)
    url = re.search(r"http\S+/privacy/download/\S+", ready.body_text).group(0)
    assert anonymous.get(link_path(url)).status_code == 410


def test_day_29_deletes_nothing_and_day_30_deletes_the_account_but_keeps_business_records_restricted(app, db, login, officer_admin):
    a = make_account(db)
    t0 = utcnow()
    terminate(db, a, t0)
    run_queue(app)
    before = snapshot(db, a)
    addresses = [u[1] for u in before["users"]]
    assert mails(db, "account_terminated", addresses[0]) or mails(db, "account_terminated", addresses[1])
    sent = [m.id for address in addresses for kind in ("account_terminated", "account_export_ready") for m in mails(db, kind, address)]

    day30 = midnight(t0.date() + timedelta(days=30))  # "day 30" starts at 00:00 UTC
    for day29 in (day30 - DAY, day30 - timedelta(seconds=1)):  # any time on day 29
        assert a.dealer_id not in account_deletion.accounts_due_for_deletion(db.session, day29)
        with pytest.raises(DomainError):
            account_deletion.delete_account(db.session, a.dealer_id, day29)
        db.session.rollback()
    assert snapshot(db, a) == before

    assert a.dealer_id in account_deletion.accounts_due_for_deletion(db.session, day30)
    dry = account_deletion.delete_account(db.session, a.dealer_id, day30, dry_run=True)
    db.session.commit()
    assert snapshot(db, a) == before and events(db, a.dealer_id, "account_deleted") == []
    applied = account_deletion.delete_account(db.session, a.dealer_id, day30)
    db.session.commit()
    assert applied == dry
    assert applied["dealer"] == {"anonymised": 1} and applied["ab_user"] == {"anonymised": 2}
    assert applied["inquiry"] == {"deleted": 1} and applied["consent_record"] == {"deleted": 1}
    assert applied["disclosure"] == {"deleted": 1} and applied["dealer_social_link"] == {"deleted": 1}
    assert applied["page_view"] == {"deleted": 2}
    assert "export_file" not in applied  # it expires at day 30 00:00: the expired_exports sweep's
    assert applied["client"] == {"restricted": 1} and applied["sale"] == {"restricted": 1}
    assert applied["car"] == {"restricted": 1}

    db.session.expire_all()
    dealer = db.session.get(Dealer, a.dealer_id)
    assert dealer.business_name == f"Terminated dealer #{a.dealer_id}" and dealer.slug == f"terminated-{a.dealer_id}"
    assert all(getattr(dealer, c) is None for c in account_deletion.PROFILE_COLUMNS)
    assert dealer.account_deleted_at == day30
    for pk in (a.admin_id, a.staff_id):
        user = db.session.get(DealerUser, pk)
        assert f"{user.first_name} {user.last_name}" == f"Former user #{pk}" and user.email.endswith("@invalid")
    after = snapshot(db, a)
    assert [after[t] for t in ("inquiry", "consent_record", "disclosure", "dealer_social_link", "page_view")] == [0] * 5
    assert [after[t] for t in ("car", "car_cost", "client", "sale")] == [before[t] for t in ("car", "car_cost", "client", "sale")]
    assert after["restricted"] == after["client"]
    sale = db.session.get(Sale, a.sale_id)
    assert sale.restricted_at is not None and sale.salesperson_id == a.admin_id  # still linked
    assert db.session.get(Client, a.client_id).assigned_user_id == a.staff_id
    [event] = events(db, a.dealer_id, "account_deleted")
    assert event.summary == applied and event.certificate["verification"]["passed"] is True
    assert event.certificate["verification"]["users_not_anonymised"] == 0
    for address in addresses:
        assert mails(db, "account_terminated", address) == mails(db, "account_export_ready", address) == []
    assert len(sent) == 2 and [db.session.get(MailMessage, pk).scrubbed_at for pk in sent] == [day30] * len(sent)

    # Hidden from everyone but the privacy officer.
    assert login("admin").get(f"/clientmodelview/show/{a.client_id}").status_code == 404
    assert login("admin").get(f"/salemodelview/show/{a.sale_id}").status_code == 404
    assert login("admin").get(f"/carmodelview/show/{a.car_id}").status_code == 404
    assert login(officer_admin).get(f"/clientmodelview/show/{a.client_id}").status_code == 200

    # Idempotent: nothing is due any more, and running it again changes nothing.
    assert a.dealer_id not in account_deletion.accounts_due_for_deletion(db.session, day30 + DAY)
    assert account_deletion.delete_account(db.session, a.dealer_id, day30 + DAY) == {}
    db.session.commit()
    assert snapshot(db, a) == after and len(events(db, a.dealer_id, "account_deleted")) == 1


def test_business_records_stay_until_three_years_and_are_then_erased(app, db):
    a = make_account(db)
    t0 = utcnow()
    terminate(db, a, t0)
    run_queue(app)
    account_deletion.delete_account(db.session, a.dealer_id, t0 + timedelta(days=30))
    db.session.commit()
    kept = snapshot(db, a)
    requests_before = rows(db, PrivacyRequest, dealer_id=a.dealer_id)

    almost = t0 + relativedelta(years=3) - DAY
    assert a.dealer_id not in records.records_due_for_erasure(db.session, almost)
    with pytest.raises(DomainError):
        records.erase_business_records(db.session, a.dealer_id, almost)
    db.session.rollback()
    assert snapshot(db, a) == kept and kept["car"] == 1 and kept["sale"] == 1

    three_years = t0 + relativedelta(years=3)
    assert a.dealer_id in records.records_due_for_erasure(db.session, three_years)
    dry = records.erase_business_records(db.session, a.dealer_id, three_years, dry_run=True)
    db.session.commit()
    assert snapshot(db, a) == kept
    applied = records.erase_business_records(db.session, a.dealer_id, three_years)
    db.session.commit()
    assert applied == dry
    assert applied["car"] == {"deleted": 1} and applied["client"] == {"deleted": 2} and applied["sale"] == {"deleted": 1}
    assert applied["car_cost"] == {"deleted": 1}

    gone = snapshot(db, a)
    assert all(
        gone[m.__tablename__] == 0 for m in (Car, CarCost, Client, Sale, Inquiry, ConsentRecord, Disclosure, DealerSocialLink, PageView)
    )
    dealer = db.session.get(Dealer, a.dealer_id)
    assert dealer is not None and dealer.records_erased_at == three_years  # the tombstone stays
    assert rows(db, PrivacyRequest, dealer_id=a.dealer_id) == requests_before  # their own retention
    assert len(gone["users"]) == 2 and all(u[2] is not None for u in gone["users"])
    [event] = events(db, a.dealer_id, "business_records_erased")
    assert event.summary == applied and event.certificate["verification"]["passed"] is True

    assert a.dealer_id not in records.records_due_for_erasure(db.session, three_years + DAY)
    assert records.erase_business_records(db.session, a.dealer_id, three_years + DAY) == {}
    db.session.commit()
    assert len(events(db, a.dealer_id, "business_records_erased")) == 1


def test_three_years_without_a_day_30_run_erase_everything_in_one_step(app, db):
    a = make_account(db)
    t0 = utcnow()
    terminate(db, a, t0)
    run_queue(app)
    three_years = t0 + relativedelta(years=3)
    assert a.dealer_id not in account_deletion.accounts_due_for_deletion(db.session, three_years)
    assert a.dealer_id in records.records_due_for_erasure(db.session, three_years)
    dry = records.erase_business_records(db.session, a.dealer_id, three_years, dry_run=True)
    db.session.commit()
    applied = records.erase_business_records(db.session, a.dealer_id, three_years)
    db.session.commit()
    assert applied == dry
    assert applied["dealer"] == {"anonymised": 1} and applied["ab_user"] == {"anonymised": 2}
    assert applied["inquiry"] == {"deleted": 1} and applied["car"] == {"deleted": 1}
    dealer = db.session.get(Dealer, a.dealer_id)
    assert dealer.account_deleted_at == dealer.records_erased_at == three_years
    assert dealer.email is None and rows(db, Car, dealer_id=a.dealer_id) == 0


def test_another_dealers_user_with_the_profile_address_keeps_the_address_and_the_mail(app, db):
    a, b = make_account(db), make_account(db)
    profile = db.session.get(Dealer, a.dealer_id).email
    other_admin = db.session.get(DealerUser, b.admin_id)
    other_admin.email = profile  # the other dealer's admin uses this dealer's office address
    sent = utcnow()
    theirs = MailMessage(kind="test", to_address=profile, language="en", subject="For B", body_text="B", sent_at=sent)
    db.session.add(theirs)
    db.session.commit()
    t0 = utcnow()
    terminate(db, a, t0)
    run_queue(app)
    [export] = account_export.account_exports(db.session, a.dealer_id)
    ours = MailMessage(kind="test", to_address=profile, language="en", subject="For A", body_text="A", sent_at=sent, request_id=export.id)
    db.session.add(ours)
    db.session.commit()
    theirs_id, ours_id = theirs.id, ours.id

    day30 = midnight(t0.date() + timedelta(days=30))
    dry = account_deletion.delete_account(db.session, a.dealer_id, day30, dry_run=True)
    db.session.rollback()
    applied = account_deletion.delete_account(db.session, a.dealer_id, day30)  # verification passes
    db.session.commit()
    assert applied == dry
    [event] = events(db, a.dealer_id, "account_deleted")
    assert event.certificate["verification"]["passed"] is True
    assert db.session.get(DealerUser, b.admin_id).email == profile
    assert db.session.get(MailMessage, theirs_id).to_address == profile  # not this dealer's mail
    assert db.session.get(MailMessage, ours_id).to_address is None  # about this dealer's request


def test_photo_files_go_only_once_the_erasure_is_committed(app, db, tmp_path, monkeypatch):
    from app.models import CarPhoto

    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    a = make_account(db)
    photo = tmp_path / "photos" / f"{uid()}.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"jpeg")
    db.session.add(CarPhoto(dealer_id=a.dealer_id, car_id=a.car_id, file_path=f"photos/{photo.name}"))
    db.session.commit()
    t0 = utcnow()
    terminate(db, a, t0)
    run_queue(app)
    three_years = midnight(t0.date() + relativedelta(years=3))

    def fail(*args, **kwargs):
        raise steps.AccountVerificationFailed("values left")

    with monkeypatch.context() as patch:
        patch.setattr(records, "certify", fail)
        with pytest.raises(steps.AccountVerificationFailed):
            records.erase_business_records(db.session, a.dealer_id, three_years)
        db.session.rollback()
    assert photo.exists() and rows(db, CarPhoto, dealer_id=a.dealer_id) == 1  # row and file kept

    applied = records.erase_business_records(db.session, a.dealer_id, three_years)
    assert applied["car_photo"] == {"deleted": 1} and photo.exists()  # not before the commit
    db.session.commit()
    assert not photo.exists() and rows(db, CarPhoto, dealer_id=a.dealer_id) == 0


# -- deactivated users --------------------------------------------------------------------------


def test_a_deactivated_user_is_anonymised_after_30_days_and_not_before(db):
    a = make_account(db)
    staff = db.session.get(DealerUser, a.staff_id)
    staff.active = False
    db.session.commit()
    deactivated = db.session.get(DealerUser, a.staff_id).deactivated_at
    internal = db.session.get(DealerUser, user_id(db, "staff"))
    assert internal.dealer_id is None

    day30 = midnight(deactivated.date() + timedelta(days=30))  # calendar days, from 00:00 UTC
    for day29 in (day30 - DAY, day30 - timedelta(seconds=1)):
        assert a.staff_id not in users.users_due_for_anonymisation(db.session, day29)
        with pytest.raises(DomainError):
            users.anonymise_user(db.session, a.staff_id, day29)
        db.session.rollback()
    assert a.admin_id not in users.users_due_for_anonymisation(db.session, deactivated + timedelta(days=300))  # active

    assert a.staff_id in users.users_due_for_anonymisation(db.session, day30)
    dry = users.anonymise_user(db.session, a.staff_id, day30, dry_run=True)
    db.session.commit()
    assert db.session.get(DealerUser, a.staff_id).anonymised_at is None
    applied = users.anonymise_user(db.session, a.staff_id, day30)
    db.session.commit()
    assert applied == dry == {"page_view": {"deleted": 1}, "ab_user": {"anonymised": 1}}

    db.session.expire_all()
    user = db.session.get(DealerUser, a.staff_id)
    assert (user.first_name, user.last_name, user.username) == ("Former", f"user #{a.staff_id}", f"former-user-{a.staff_id}")
    assert user.anonymised_at == day30 and user.active is False
    assert rows(db, PageView, user_id=a.staff_id) == 0
    client = db.session.get(Client, a.client_id)
    assert client.assigned_user_id == a.staff_id  # records they created stay linked
    assert db.session.scalar(select(Inquiry.assigned_user_id).where(Inquiry.client_id == a.client_id)) == a.staff_id
    [event] = db.session.scalars(
        select(RetentionEvent).where(RetentionEvent.kind == "user_anonymised", RetentionEvent.user_id == a.staff_id)
    ).all()
    assert event.summary == applied and event.dealer_id == a.dealer_id and event.certificate["verification"]["passed"]

    assert a.staff_id not in users.users_due_for_anonymisation(db.session, day30 + DAY)
    assert users.anonymise_user(db.session, a.staff_id, day30 + DAY) == {}


def test_internal_users_are_anonymised_too_and_a_terminated_dealers_users_wait_for_its_account(db):
    from app.provisioning import create_user

    tag = uid()
    internal = create_user(f"acct-internal-{tag}", DEMO_PASSWORD, f"internal-{tag}@forecourt.example", "Staff", check_policy=False)
    internal.active = False
    db.session.commit()
    deactivated = db.session.get(DealerUser, internal.id).deactivated_at
    assert internal.id in users.users_due_for_anonymisation(db.session, deactivated + timedelta(days=30))

    a = make_account(db)
    t0 = utcnow()
    terminate(db, a, t0)
    due = users.users_due_for_anonymisation(db.session, t0 + timedelta(days=60))
    assert a.admin_id not in due and a.staff_id not in due  # delete_account anonymises them
    account_deletion.delete_account(db.session, a.dealer_id, t0 + timedelta(days=30))
    db.session.commit()
    due = users.users_due_for_anonymisation(db.session, t0 + timedelta(days=60))
    assert a.admin_id not in due and a.staff_id not in due  # done


# -- HTTP ---------------------------------------------------------------------------------------


def test_dealer_admin_exports_the_account_from_the_account_page(app, db, login):
    a = make_account(db)
    browser = login(a.admin)
    page = browser.get("/account/")
    assert page.status_code == 200 and a.slug in page.get_data(as_text=True)
    response = browser.post_form("/account/export", {}, form_url="/account/")
    assert response.status_code == 302
    [request] = account_export.account_exports(db.session, a.dealer_id)
    html = browser.get("/account/").get_data(as_text=True)
    assert 'data-status="in_progress"' in html and f"/account/status/{request.id}" in html
    assert "privacy-progress.js" in html
    assert browser.get(f"/account/status/{request.id}").json["status"] == "in_progress"

    run_queue(app)
    db.session.expire_all()  # the requests share the test's session
    html = browser.get("/account/").get_data(as_text=True)
    assert f"/account/download/{request.id}" in html
    download = browser.get(f"/account/download/{request.id}")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "dealer.json" in zipfile.ZipFile(io.BytesIO(download.data)).namelist()

    other = login("north-motors-admin")
    assert other.get(f"/account/download/{request.id}").status_code == 404
    assert other.get(f"/account/status/{request.id}").status_code == 404
    assert a.slug not in other.get("/account/").get_data(as_text=True)
    assert login(a.staff).get("/account/").status_code in (302, 403)  # DealerStaff: no access


def test_dealer_admin_terminates_by_typing_the_slug_and_is_signed_out(app, db, login):
    a = make_account(db, language="en")
    browser = login(a.admin)
    wrong = browser.post_form("/account/terminate", {"slug": "not-the-slug"}, form_url="/account/")
    assert wrong.status_code == 422 and "Type the slug exactly" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).status is DealerStatus.active
    assert db.session.get(DealerUser, a.staff_id).active is True

    done = browser.post_form("/account/terminate", {"slug": a.slug, "reason": "Retiring"}, form_url="/account/")
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).status is DealerStatus.terminated
    assert db.session.get(DealerUser, a.admin_id).active is False
    assert browser.get("/account/").status_code == 302  # signed out
    assert browser.login().status_code == 302 and browser.get("/account/").status_code == 302  # and cannot sign in
    [event] = events(db, a.dealer_id, "account_terminated")
    assert event.actor_id == a.admin_id
    run_queue(app)


def test_another_dealers_admin_cannot_terminate_the_account(db, login, dealer_ids):
    a = make_account(db)
    other = login("south-cars-admin")
    wrong = other.post_form("/account/terminate", {"slug": a.slug}, form_url="/account/")
    assert wrong.status_code == 422
    denied = other.post_form(
        f"/dealermodelview/terminate/{a.dealer_id}", {"terminate-slug": a.slug, "terminate-reason": "x"}, form_url="/account/"
    )
    assert denied.status_code in (302, 403, 404)
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).status is DealerStatus.active
    assert db.session.get(Dealer, dealer_ids["south-cars"]).status is DealerStatus.active


def test_staff_terminates_from_the_dealer_page_and_sees_the_events(app, db, login):
    a = make_account(db)
    staff = login("staff")
    show = f"/dealermodelview/show/{a.dealer_id}"
    html = staff.get(show).get_data(as_text=True)
    assert "dealer-terminate-form" in html and "Nothing has happened to this account yet" in html
    no_reason = staff.post_form(f"/dealermodelview/terminate/{a.dealer_id}", {"terminate-slug": a.slug}, form_url=show)
    assert no_reason.status_code == 422
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).status is DealerStatus.active

    done = staff.post_form(
        f"/dealermodelview/terminate/{a.dealer_id}", {"terminate-slug": a.slug, "terminate-reason": "Unpaid invoices"}, form_url=show
    )
    assert done.status_code == 302
    db.session.expire_all()
    dealer = db.session.get(Dealer, a.dealer_id)
    assert dealer.status is DealerStatus.terminated and dealer.termination_reason == "Unpaid invoices"
    assert db.session.get(DealerUser, a.admin_id).active is False
    [event] = events(db, a.dealer_id, "account_terminated")
    assert event.actor_id == user_id(db, "staff") and event.certificate["requested_by"] == "staff"
    [request] = account_export.account_exports(db.session, a.dealer_id)
    assert request.subject_email == db.session.get(DealerUser, a.admin_id).email  # for the dealer, not for staff
    [notice] = mails(db, "account_terminated", request.subject_email)
    assert "Unpaid invoices" in notice.body_text

    html = staff.get(show).get_data(as_text=True)
    assert "dealer-account-event-account_terminated" in html and "dealer-terminate-form" not in html
    officer = login("privacy")
    html = officer.get(show).get_data(as_text=True)
    assert "dealer-account-event-account_terminated" in html and "dealer-terminate-form" not in html
    run_queue(app)
