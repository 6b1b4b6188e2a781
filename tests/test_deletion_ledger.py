"""The deletion ledger outside the database: a backup restore does not bring deleted people
back, and replaying the ledger touches nobody else (issue 11, findings 1 and 2).

The backup is the real thing for the database under test: a copy of the SQLite file, or
``pg_dump``/``pg_restore`` on PostgreSQL. Each test has its own ledger store (a SQLite file
of its own, as ``DELETION_LEDGER_URL``), which the restore does not reach.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from app.models import (
    Client,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    DealerSocialLink,
    DealerStatus,
    Inquiry,
    PageView,
    PrivacyRequest,
    RequestStatus,
)
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.ledger import store
from app.privacy.lifecycle import retention
from app.privacy.lifecycle.account_deletion import delete_account
from app.privacy.lifecycle.termination import terminate_dealer
from app.privacy.requests.scan import find_identifiers, scan_all_text_columns
from app.privacy.requests.subjects import Subject
from app.queueing import enqueue_request
from tests.factories import Person, add_client, add_inquiry, make_account, new_dealer, new_person
from tests.privacy_support import confirm, file_erasure, user_id
from tests.queue_support import run_queue


def scan_registered(db, identifiers, dealer_id=None) -> dict[str, int]:
    """Rows per table holding one of the exact identifiers (e-mails, phones), as the
    erasure's verification scan finds them."""
    emails = tuple(i.lower() for i in identifiers if i and "@" in i)
    phones = tuple(i for i in identifiers if i and i.startswith("+"))
    return find_identifiers(db.session, Subject(emails, phones, (), dealer_id)).tables


@pytest.fixture
def ledger_file(app, tmp_path, monkeypatch):
    """This test's own ledger store, outside the database."""
    path = tmp_path / "ledger" / "deletion-ledger.sqlite"
    monkeypatch.setitem(app.config, "DELETION_LEDGER_URL", f"sqlite:///{path}")
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    return path


class Backup:
    """A backup of the whole database as an operator takes it, and its restore."""

    def __init__(self, db, directory: Path) -> None:
        self.db, self.directory = db, directory
        self.engine = db.engine
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            database = self.engine.url.database
            if not database or database == ":memory:":
                pytest.skip("an in-memory SQLite database has no file to back up")
            self.path = Path(database)
        elif self.dialect == "postgresql":
            for tool in ("pg_dump", "pg_restore"):
                assert shutil.which(tool), f"{tool} is needed to back up PostgreSQL"
            self.url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        else:
            pytest.skip(f"no backup procedure for {self.dialect}")
        self.file = directory / "backup.dump"
        self.taken_at = None

    def _quiet(self) -> None:
        self.db.session.commit()
        self.db.session.remove()
        self.engine.dispose()  # no connection open while the file is copied or the schema replaced

    def take(self) -> None:
        self._quiet()
        self.taken_at = utcnow()
        if self.dialect == "sqlite":
            shutil.copyfile(self.path, self.file)
        else:
            subprocess.run(["pg_dump", "--format=custom", f"--file={self.file}", self.url], check=True, capture_output=True)

    def restore(self) -> None:
        self._quiet()
        if self.dialect == "sqlite":
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.file, self.path)
        else:
            command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={self.url}", str(self.file)]
            subprocess.run(command, check=True, capture_output=True)
        self.db.session.expire_all()


@pytest.fixture
def backup(app, db, tmp_path, ledger_file):
    return Backup(db, tmp_path)


def replay(app, *args: str) -> tuple[dict[str, int], int]:
    """`flask --app run forecourt replay-erasures`: rows changed per action, rows left alone."""
    result = app.test_cli_runner().invoke(args=["forecourt", "replay-erasures", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    first, second = result.output.splitlines()[:2]
    changed = {k.strip(): int(v) for k, v in (part.split("=") for part in first.split(":", 1)[1].split(","))}
    return changed, int(second.rsplit(":", 1)[1])


def add_consent(db, person: Person, dealer_id: int) -> ConsentRecord:
    record = ConsentRecord(
        dealer_id=dealer_id,
        email=person.email,
        purpose=ConsentPurpose.marketing,
        action=ConsentAction.given,
        method=ConsentMethod.staff,
        source="/test",
    )
    db.session.add(record)
    db.session.flush()
    person.add("consent_record", record)
    return record


def erase(app, db, request_id: int) -> None:
    request = db.session.get(PrivacyRequest, request_id)
    confirm(db, request)
    enqueue_request(request_id)
    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.completed, request.failure


def same_name(person: Person) -> Person:
    """Someone else with the erased person's name."""
    other = new_person()
    other.first_name, other.last_name = person.first_name, person.last_name
    return other


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# -- a restore, then the replay ------------------------------------------------------------


def test_a_restored_backup_does_not_bring_an_erased_person_back(app, db, backup, ledger_file):
    dealer = new_dealer(db).id
    p = new_person()
    client = add_client(db, p, dealer)
    add_inquiry(db, p, dealer, client=client)
    add_consent(db, p, dealer)
    request_id = file_erasure(db, p, dealer, actor="privacy").id
    db.session.commit()
    client_id = client.id
    backup.take()

    late = add_inquiry(db, p, dealer, message=f"It is {p.name} again").id  # after the backup: gone with the restore
    db.session.commit()
    erase(app, db, request_id)
    assert scan_registered(db, p.identifiers, dealer_id=dealer) == {}

    backup.restore()
    assert db.session.get(Client, client_id) is not None  # the backup brought P back
    assert scan_registered(db, p.identifiers, dealer_id=dealer) != {}

    changed, left_alone = replay(app, "--since", backup.taken_at.isoformat())
    assert changed == {"delete": 3, "anonymise": 1, "keep": 0}  # client, inquiry, consent; the request
    assert left_alone == 0
    db.session.expire_all()
    assert scan_registered(db, p.identifiers, dealer_id=dealer) == {}
    assert scan_all_text_columns(db.session, [p.email, p.phone]) == {}
    assert db.session.get(Inquiry, late) is None

    # Replaying again (as an operator might) changes nothing.
    state = {m: count(db, m, m.dealer_id == dealer) for m in (Client, Inquiry, ConsentRecord, PrivacyRequest)}
    assert replay(app) == ({"delete": 0, "anonymise": 0, "keep": 0}, 0)
    assert {m: count(db, m, m.dealer_id == dealer) for m in state} == state


def test_replay_does_not_touch_people_who_arrived_after_the_backup(app, db, backup, ledger_file):
    dealer = new_dealer(db).id
    p = new_person()
    client_id = add_client(db, p, dealer).id
    request_id = file_erasure(db, p, dealer, actor="privacy").id
    db.session.commit()
    backup.take()

    # P comes back after the backup (an inquiry, a consent), then is erased.
    gone_inquiry = add_inquiry(db, p, dealer, client=db.session.get(Client, client_id)).id
    gone_consent = add_consent(db, p, dealer).id
    db.session.commit()
    erase(app, db, request_id)
    backup.restore()

    # New people arrive after the restore: their rows get the ids P's lost rows had (the
    # restored sequences hand them out again); one of them shares P's name.
    namesake = same_name(p)
    newcomer = new_person()
    namesake_client = add_client(db, namesake, dealer)
    inquiry = add_inquiry(db, newcomer, dealer)
    consent = add_consent(db, newcomer, dealer)
    db.session.commit()
    assert (inquiry.id, consent.id) == (gone_inquiry, gone_consent)
    before = {
        "client": db.session.execute(select(Client.__table__).where(Client.id == namesake_client.id)).one(),
        "inquiry": db.session.execute(select(Inquiry.__table__).where(Inquiry.id == inquiry.id)).one(),
        "consent": db.session.execute(select(ConsentRecord.__table__).where(ConsentRecord.id == consent.id)).one(),
    }

    changed, left_alone = replay(app)
    assert changed == {"delete": 1, "anonymise": 1, "keep": 0}  # P's restored client; the request
    assert left_alone == 2  # the newcomers' inquiry and consent, under P's old ids
    db.session.expire_all()
    assert db.session.get(Client, client_id) is None
    assert db.session.execute(select(Client.__table__).where(Client.id == namesake_client.id)).one() == before["client"]
    assert db.session.execute(select(Inquiry.__table__).where(Inquiry.id == inquiry.id)).one() == before["inquiry"]
    assert db.session.execute(select(ConsentRecord.__table__).where(ConsentRecord.id == consent.id)).one() == before["consent"]
    assert scan_registered(db, [p.email, p.phone], dealer_id=dealer) == {}
    assert replay(app) == ({"delete": 0, "anonymise": 0, "keep": 0}, 2)


def test_replay_on_a_live_database_leaves_rows_under_reused_ids_alone(app, db, ledger_file):
    """No restore at all: replay after new visitors arrived deletes nothing of theirs, even
    where a new row has an erased row's id and an older ``recorded_at`` than the replay."""
    dealer = new_dealer(db).id
    p = new_person()
    add_client(db, p, dealer)
    erased_consent = add_consent(db, p, dealer).id
    erased_inquiry = add_inquiry(db, p, dealer).id
    request_id = file_erasure(db, p, dealer, actor="privacy").id
    db.session.commit()
    erase(app, db, request_id)

    newcomer = same_name(p)
    now = utcnow()
    for model, values in (
        (ConsentRecord, {"id": erased_consent, "purpose": ConsentPurpose.marketing, "action": ConsentAction.given}),
        (Inquiry, {"id": erased_inquiry, "name": newcomer.name, "message": "Hello", "received_at": now, "created_at": now}),
    ):
        extra = {"method": ConsentMethod.staff, "source": "/test", "recorded_at": now} if model is ConsentRecord else {}
        db.session.execute(insert(model.__table__).values(dealer_id=dealer, email=newcomer.email, **values, **extra))
    db.session.commit()

    changed, left_alone = replay(app)
    assert changed == {"delete": 0, "anonymise": 0, "keep": 0}
    assert left_alone == 2
    assert db.session.get(ConsentRecord, erased_consent).email == newcomer.email
    assert db.session.get(Inquiry, erased_inquiry).email == newcomer.email


def test_day_30_deletion_survives_a_restore(app, db, backup, ledger_file):
    account = make_account(db)
    dealer = db.session.get(Dealer, account.dealer_id)
    dealer_id = dealer.id
    identifiers = [dealer.email, dealer.phone, dealer.legal_name]
    identifiers += [u.email for u in db.session.scalars(select(DealerUser).where(DealerUser.dealer_id == dealer.id))]
    visitor = new_person()
    add_inquiry(db, visitor, dealer.id)  # a visitor who never became a client
    add_consent(db, visitor, dealer.id)
    db.session.commit()
    identifiers += [visitor.email, visitor.phone]
    backup.take()  # before the termination

    terminated_at = utcnow() - timedelta(days=31)
    terminate_dealer(db.session, dealer_id, actor_id=user_id(db, "staff"), reason=None, now=terminated_at)
    db.session.commit()
    run_queue(app)  # the admins' account export
    delete_account(db.session, account.dealer_id, as_of=utcnow())
    db.session.commit()
    assert scan_registered(db, identifiers) == {}

    backup.restore()
    restored = db.session.get(Dealer, account.dealer_id)
    assert restored.status is DealerStatus.active and restored.email is not None  # back whole

    changed, left_alone = replay(app, "--since", backup.taken_at.isoformat())
    # 2 inquiries, 2 consents, 2 page views, a disclosure, a social link, the 8 rows of the
    # records' change history; 2 users and the dealer; its car, client and sale restricted
    # (the export request came after the backup)
    assert (changed, left_alone) == ({"delete": 16, "anonymise": 3, "keep": 3}, 0)
    db.session.expire_all()
    assert scan_registered(db, identifiers) == {}
    dealer = db.session.get(Dealer, account.dealer_id)
    assert dealer.status is DealerStatus.terminated and dealer.business_name == f"Terminated dealer #{dealer.id}"
    assert dealer.account_deleted_at is not None and dealer.records_erasure_due_at is not None  # back on its schedule
    users = db.session.scalars(select(DealerUser).where(DealerUser.dealer_id == dealer.id)).all()
    assert users and all(u.anonymised_at is not None and not u.active for u in users)
    for model in (Inquiry, ConsentRecord, DealerSocialLink, PageView):
        assert count(db, model, model.dealer_id == dealer.id) == 0, model.__tablename__
    assert db.session.get(Client, account.client_id).restricted_at is not None  # a kept business record, restricted again
    assert replay(app) == ({"delete": 0, "anonymise": 0, "keep": 0}, 0)


# -- what the ledger holds, and for how long ---------------------------------------------


def test_the_ledger_holds_no_identifiers_and_expires_after_the_backup_window(app, db, ledger_file):
    dealer = new_dealer(db).id
    p = new_person()
    add_client(db, p, dealer)
    add_inquiry(db, p, dealer)
    request_id = file_erasure(db, p, dealer, actor="privacy").id
    db.session.commit()
    erase(app, db, request_id)

    assert ledger_file.exists()  # outside the database, where the setting says
    entries = [e for batch in store.read() for e in batch]
    assert sorted((e.table_name, e.action) for e in entries) == [
        ("client", "delete"),
        ("inquiry", "delete"),
        ("mail_message", "anonymise"),  # the completion notice, scrubbed once sent
        ("privacy_request", "anonymise"),
    ]
    assert {e.reason for e in entries} == {"erasure"} and len({e.subject for e in entries}) == 1
    text = repr(entries).lower()
    assert all(value.lower() not in text for value in p.identifiers)

    window = int(app.config["ERASURE_LEDGER_RETENTION_DAYS"])
    kept = retention.run_sweeps(["erasure_ledger"], as_of=utcnow() + timedelta(days=window - 1), dry_run=True)
    assert "deletion_ledger" not in kept["erasure_ledger"]
    later = utcnow() + timedelta(days=window + 1)
    assert retention.run_sweeps(["erasure_ledger"], as_of=later, dry_run=True)["erasure_ledger"]["deletion_ledger"] == {"deleted": 4}
    cutoff = later - timedelta(days=window)  # what the real sweep does (the dry run said so)
    assert store.expire(cutoff) == 4 and store.count() == 0


def test_a_deletion_whose_ledger_cannot_be_written_does_not_happen(app, db, ledger_file, monkeypatch):
    """The entries are written before the deletion commits: no store, no deletion."""
    from app.privacy.lifecycle import sweeps

    view = PageView(dealer_id=None, user_id=user_id(db, "staff"), path="/x", viewed_at=utcnow() - timedelta(days=400))
    db.session.add(view)
    db.session.commit()

    def broken(entries):
        raise OSError("disk full")

    monkeypatch.setattr(store, "append", broken)
    with pytest.raises(OSError):
        sweeps.sweep_usage_log(db.session, utcnow(), dry_run=False)
    db.session.rollback()
    assert db.session.get(PageView, view.id) is not None


def test_production_refuses_a_deletion_ledger_in_the_main_database():
    import secrets

    from app.settings_check import InsecureConfiguration, check_production_settings
    from config import ProductionConfig

    config = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    config.update(SECRET_KEY=secrets.token_urlsafe(48), REDIS_URL="redis://redis.internal:6379/0", MAIL_SERVER=None)
    config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://app@db.internal/forecourt"
    with pytest.raises(InsecureConfiguration, match="DELETION_LEDGER_URL"):
        check_production_settings({**config, "DELETION_LEDGER_URL": "postgresql://app@db.internal/forecourt"})
    check_production_settings({**config, "DELETION_LEDGER_URL": "postgresql://app@ledger.internal/forecourt_ledger"})
    check_production_settings({**config, "DELETION_LEDGER_URL": None})
