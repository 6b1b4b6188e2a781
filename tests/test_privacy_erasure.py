"""Erasure end to end through the real queue: preview, confirmation, the batched job, the
verification scan and certificate, idempotency, and replaying the ledger after a restore.

Person P is in every table at a dealer of the test's own; Q1 has P's e-mail address at another
dealer (another controller's data) and Q2 is someone else at P's dealer. Jobs commit, so every test
uses its own uuid-based identifiers.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import insert, select, update

from app.models import (
    Car,
    Client,
    DealerUser,
    Disclosure,
    ErasureLedgerEntry,
    Inquiry,
    MailMessage,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestChannel,
    RequestStatus,
    RequestType,
    Sale,
)
from app.models.base import utcnow
from app.privacy.requests import erasure, erasure_preview, intake, processing
from app.privacy.requests.scan import scan_all_text_columns
from app.privacy.requests.subjects import mask
from app.queueing import enqueue_request, request_job_id
from tests.factories import add_client, add_disclosure, add_inquiry, add_sale, new_dealer, new_person
from tests.privacy_support import confirm, file_erasure, ledger, user_id
from tests.queue_support import run_queue

# -- factories -------------------------------------------------------------------------


def process(app, db, request: PrivacyRequest) -> None:
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()


def snapshot(db, model, where=None) -> dict:
    table = model.__table__
    query = select(table)
    if where is not None:
        query = query.where(where)
    return {row.id: tuple(row) for row in db.session.execute(query)}


def event_kinds(db, request_id: int) -> list[str]:
    return list(db.session.scalars(select(PrivacyRequestEvent.kind).where(PrivacyRequestEvent.request_id == request_id)))


# -- the whole story -------------------------------------------------------------------


def test_erasure_changes_exactly_p_rows_leaves_no_trace_and_can_be_replayed(app, db, tmp_path, monkeypatch):
    from app.privacy.requests.export import export_dir

    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PRIVACY_BATCH_SIZE", 2)
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    north, south = new_dealer(db).id, new_dealer(db).id  # this test's own: nobody else's rows or placeholder
    ours = {model: model.dealer_id.in_([north, south]) for model in (Client, Inquiry, Sale, Disclosure, Car)}

    p = new_person()
    client = add_client(db, p, north)
    add_inquiry(db, p, north, client=client)
    add_inquiry(db, p, north, message=f"Hello, this is {p.name}, {p.phone}")  # by e-mail only
    recent = add_sale(db, p, client, date.today() - timedelta(days=100))
    add_sale(db, p, client, date.today() - relativedelta(years=3, days=20))
    add_disclosure(db, p, client)
    earlier = intake.file_request(
        db.session,
        request_type=RequestType.access,
        email=p.email,
        dealer_id=north,
        channel=RequestChannel.officer,
        actor_id=user_id(db, "privacy"),
    )
    db.session.flush()
    earlier.status, earlier.completed_at = RequestStatus.completed, utcnow()
    old_zip = export_dir() / f"request-{earlier.id}-{uuid.uuid4().hex[:6]}.zip"
    old_zip.write_bytes(b"PK old export")
    earlier.export_path = old_zip.relative_to(tmp_path).as_posix()
    old_mail = MailMessage(
        kind="completed",
        to_address=p.email,
        subject="Your data",
        body_text=f"Dear {p.name}, here is your copy.",
        request=earlier,
        sent_at=utcnow(),
        transport="outbox",
    )
    db.session.add(old_mail)
    q1 = new_person(email=p.email)  # the same address at another dealer
    q1_client = add_client(db, q1, south)
    add_inquiry(db, q1, south, client=q1_client)
    q2 = new_person()  # someone else at the same dealer
    q2_client = add_client(db, q2, north)
    add_inquiry(db, q2, north, client=q2_client)
    add_sale(db, q2, q2_client, date.today() - timedelta(days=10))
    add_disclosure(db, q2, q2_client)
    request = file_erasure(db, p, north, actor="privacy")
    db.session.commit()
    old_mail_id, earlier_id, client_id = old_mail.id, earlier.id, client.id
    backup = {"client": db.session.execute(select(Client.__table__).where(Client.id == client.id)).one()._asdict()}

    shown = confirm(db, request)
    per_table = {t["table"]: t for t in shown["tables"]}
    assert {t: (v["delete"], v["anonymise"], v["keep"]) for t, v in per_table.items()} == {
        "client": (1, 0, 0),
        "inquiry": (2, 0, 0),
        "sale": (1, 0, 1),
        "disclosure": (1, 0, 0),
        "mail_message": (1, 0, 0),
        "privacy_request": (0, 2, 0),
    }
    assert per_table["sale"]["keep_until"] == (recent.sale_date + relativedelta(years=3)).isoformat()
    assert per_table["sale"]["legal_basis"]
    assert (shown["open_requests"], shown["export_files"], shown["recipients"]) == (0, 1, 1)
    assert p.email not in repr(shown) and p.name not in repr(shown)

    others = {m: snapshot(db, m, where) for m, where in ours.items()}
    process(app, db, request)

    # The request: completed, pseudonymised, with a certificate.
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed, request.failure
    assert (request.subject_email, request.subject_phone, request.subject_name) == (None, None, None)
    assert request.subject_hint == mask(p.email) and request.subject_key
    certificate = request.certificate
    assert certificate["reference"] == request.reference and certificate["verification"]["hits"] == 0
    assert certificate["tables"]["inquiry"]["delete"] == 2 and certificate["tables"]["sale"] == {"delete": 1, "anonymise": 0, "keep": 1}
    assert certificate["ledger_entries"] == len(ledger(db, request.id))
    assert p.email not in repr(certificate) and p.phone not in repr(certificate)
    assert {"erasure_previewed", "recipients_notified", "completed"} <= set(event_kinds(db, request.id))

    # Exactly P's rows changed; Q1 and Q2 are untouched.
    for model, before in others.items():
        after = snapshot(db, model, ours[model])
        mine = set(p.rows.get(model.__tablename__, []))
        assert {k: v for k, v in before.items() if k not in mine} == {k: v for k, v in after.items() if k not in mine and k in before}
    assert db.session.get(Client, q1_client.id).email == p.email

    # P's recent sale is kept, restricted, bought by the dealer's anonymised placeholder.
    kept = db.session.get(Sale, recent.id)
    assert kept.restricted_at is not None and kept.buyer.is_erasure_placeholder and kept.buyer.restricted_at is not None
    assert (kept.buyer.first_name, kept.buyer.last_name, kept.buyer.email, kept.buyer.dealer_id) == ("Erased", "client", None, north)
    assert [sid for sid in p.rows["sale"] if db.session.get(Sale, sid)] == [recent.id]
    new_clients = set(snapshot(db, Client, ours[Client])) - set(others[Client])
    assert new_clients <= {kept.buyer.id}

    # The old export, the old request's identifiers and P's e-mails are gone.
    assert not old_zip.exists()
    earlier = db.session.get(PrivacyRequest, earlier_id)
    assert (earlier.export_path, earlier.subject_email, earlier.subject_hint) == (None, None, mask(p.email))
    assert db.session.get(MailMessage, old_mail_id) is None
    own = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id)).all()
    assert {m.kind for m in own} == {"recipient_notice", "completed"}
    assert all(m.sent_at and m.scrubbed_at and m.to_address is None for m in own)

    # Nothing of P anywhere: every text column of every table (Q1 keeps the same address),
    # but the name the kept sale needs for accounting.
    assert (kept.buyer_name, kept.buyer_address) == (p.name, "Hamburg")
    q1_rows = {"client": q1.rows["client"], "inquiry": q1.rows["inquiry"]}
    assert scan_all_text_columns(db.session, p.identifiers, exclude=q1_rows) == {"sale": 1}
    assert scan_all_text_columns(db.session, p.identifiers, exclude={**q1_rows, "sale": [recent.id]}) == {}
    assert scan_all_text_columns(db.session, [p.email]) == {"client": 1, "inquiry": 1}

    # Every change is in the ledger, once, under P's keyed hash.
    entries = ledger(db, request.id)
    assert len(entries) == len(set(entries))
    assert {(t, a) for t, _, a in entries} >= {
        ("client", "delete"),
        ("inquiry", "delete"),
        ("sale", "keep"),
        ("sale", "delete"),
        ("disclosure", "delete"),
        ("privacy_request", "anonymise"),
    }
    keys = set(db.session.scalars(select(ErasureLedgerEntry.subject_key).where(ErasureLedgerEntry.request_id == request.id)))
    assert keys == {request.subject_key}

    # Running the job again changes nothing.
    state = {m: snapshot(db, m) for m in (Client, Inquiry, Sale, Disclosure, PrivacyRequest)}
    process(app, db, request)
    assert erasure.run_erasure(request.id) == "nothing to do"
    assert {m: snapshot(db, m) for m in state} == state and ledger(db, request.id) == entries

    # A backup restore brings P back; replaying the ledger erases P again, once. (The ledger is
    # the whole database's: a first replay re-applies what other tests' rows need, if anything.)
    replay(app)
    db.session.execute(insert(Client.__table__).values(**backup["client"]))
    db.session.execute(update(Sale).where(Sale.id == recent.id).values(client_id=client_id, restricted_at=None))
    db.session.commit()
    assert replay(app) == {"delete": 1, "anonymise": 0, "keep": 1}  # P's client, P's kept sale
    db.session.expire_all()
    assert db.session.get(Client, client_id) is None
    replayed = db.session.get(Sale, recent.id)
    assert replayed.buyer.is_erasure_placeholder and replayed.restricted_at is not None
    assert replay(app, "--since", date.today().isoformat()) == {"delete": 0, "anonymise": 0, "keep": 0}

    # A new row that got an erased row's id (ids are reused) is someone else's: left alone.
    newcomer = new_person()
    db.session.execute(
        insert(Client.__table__).values(
            **{
                **backup["client"],
                "first_name": newcomer.first_name,
                "last_name": newcomer.last_name,
                "email": newcomer.email,
                "phone": newcomer.phone,
                "notes": None,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    )
    db.session.commit()
    assert replay(app) == {"delete": 0, "anonymise": 0, "keep": 0}
    assert db.session.get(Client, client_id).email == newcomer.email


def replay(app, *args: str) -> dict[str, int]:
    """`flask --app run forecourt replay-erasures`; the counts it prints."""
    result = app.test_cli_runner().invoke(args=["forecourt", "replay-erasures", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    printed = result.output.splitlines()[0].split(":", 1)[1]
    return {key.strip(): int(value) for key, value in (part.split("=") for part in printed.split(","))}


def test_preview_needs_a_verified_erasure_request(app, db, dealer_ids):
    import pytest

    from app.domain import DomainError

    p = new_person()
    access = intake.file_request(
        db.session,
        request_type=RequestType.access,
        email=p.email,
        dealer_id=dealer_ids["north-motors"],
        channel=RequestChannel.dealer_admin,
        actor_id=user_id(db, "north-motors-admin"),
    )
    db.session.flush()
    with pytest.raises(DomainError):
        erasure_preview.preview(db.session, access)
    request = file_erasure(db, p, dealer_ids["north-motors"])
    with pytest.raises(DomainError):
        processing.request_processing(db.session, request, None, confirm_erasure=True)  # no preview yet
    assert request.erasure_preview is None and request.status is RequestStatus.verified


def test_an_open_request_of_the_person_fails_the_scan_loudly_until_it_is_closed(app, db, dealer_ids):
    from rq.job import Job

    from app.extensions import redis_connection

    run_queue(app)
    north = dealer_ids["north-motors"]
    p = new_person()
    client = add_client(db, p, north)
    add_inquiry(db, p, north, client=client)
    pending = intake.file_request(
        db.session,
        request_type=RequestType.access,
        email=p.email,
        dealer_id=north,
        channel=RequestChannel.dealer_admin,
        actor_id=user_id(db, "north-motors-admin"),
    )
    request = file_erasure(db, p, north)
    db.session.commit()
    shown = confirm(db, request)
    assert shown["open_requests"] == 1

    process(app, db, request)
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.in_progress
    assert request.failure and "privacy_request (1)" in request.failure and p.email not in request.failure
    assert "verification_failed" in event_kinds(db, request.id)
    job = Job.fetch(request_job_id(request.id), connection=redis_connection())
    assert job.is_failed or job.is_scheduled  # failed loudly (RQ retries it later)
    done = ledger(db, request.id)
    assert sorted(t for t, _, _ in done) == ["client", "inquiry"]
    assert db.session.get(Client, p.rows["client"][0]) is None

    job.delete()  # the officer retries at once: nothing more changes, it fails again
    process(app, db, request)
    assert ledger(db, request.id) == done and db.session.get(PrivacyRequest, request.id).status is RequestStatus.in_progress

    intake.cancel(db.session, db.session.get(PrivacyRequest, pending.id))
    db.session.commit()
    Job.fetch(request_job_id(request.id), connection=redis_connection()).delete()
    process(app, db, request)
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed and request.failure is None
    assert db.session.get(PrivacyRequest, pending.id).subject_email is None  # closed now: pseudonymised
    assert scan_all_text_columns(db.session, p.identifiers) == {}


def test_a_platform_erasure_covers_every_dealer_and_anonymises_the_account(app, db, dealer_ids, monkeypatch):
    from app.provisioning import create_user

    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    run_queue(app)
    p = new_person()
    for dealer_id in dealer_ids.values():
        add_inquiry(db, p, dealer_id, client=add_client(db, p, dealer_id))
    user = create_user(f"user-{uuid.uuid4().hex[:8]}", "a-long-password", p.email, "DealerStaff", "south-cars", p.first_name, p.last_name)
    request = file_erasure(db, p, None, actor="privacy")
    db.session.commit()
    shown = confirm(db, request)
    assert {t["table"]: t["anonymise"] for t in shown["tables"]}["ab_user"] == 1

    process(app, db, request)
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed, request.failure
    assert all(db.session.get(Client, cid) is None for cid in p.rows["client"])
    account = db.session.get(DealerUser, user.id)
    assert (account.first_name, account.last_name, account.username, account.email, account.active) == (
        "Former",
        f"user #{user.id}",
        f"former-user-{user.id}",
        f"former-user-{user.id}@invalid",
        False,
    )
    assert app.appbuilder.sm.auth_user_db(account.username, "a-long-password") is None
    assert scan_all_text_columns(db.session, p.identifiers) == {}
