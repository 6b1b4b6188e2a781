"""The access/portability package: built by the real queue, holding every row of the
person and nothing of anyone else, checked file by file; its signed download link."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, format_date
from markupsafe import escape
from sqlalchemy import select

from app.models import (
    Client,
    Disclosure,
    Inquiry,
    MailMessage,
    PrivacyRequest,
    RectificationChange,
    RequestChannel,
    RequestStatus,
    RequestType,
    Sale,
    SaleStatus,
)
from app.models.base import utcnow
from app.privacy.links import DOWNLOAD, VERIFY, make_token
from app.privacy.requests import export, export_files, intake, processing
from tests.factories import make_car, new_phone
from tests.privacy_support import events, file_access, user_id
from tests.queue_support import run_queue

DOWNLOAD_LINK = re.compile(r"/privacy/download/([A-Za-z0-9_.\-]+)")


# -- helpers ---------------------------------------------------------------------------


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    """Each test gets its own file store."""
    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    return tmp_path


@dataclass
class ExportSubject:
    """Someone with rows at a dealer, and the values only those rows hold."""

    email: str
    phone: str
    first_name: str
    last_name: str
    client: Client | None = None
    markers: list[str] = field(default_factory=list)  # values only this person's rows hold


def add_person(db, dealer_id: int, *, staff: str, email: str, first: str, tag: str, restricted: bool = False) -> ExportSubject:
    """A client with inquiries (one linked, one by e-mail only), a sale, a disclosure, an
    earlier request with a mail and a rectification; the dealer's ``staff`` serves them."""
    staff_id = user_id(db, staff)
    person = ExportSubject(email=email, phone=new_phone(), first_name=first, last_name=f"Last{tag}")
    client = Client(
        dealer_id=dealer_id,
        first_name=person.first_name,
        last_name=person.last_name,
        email=email,
        phone=person.phone,
        address_line1=f"-{tag} Main Street 1",
        city="Berlin",
        country="DE",
        notes=f"@notes {tag}",
        assigned_user_id=staff_id,
        restricted_at=utcnow() if restricted else None,
    )
    db.session.add(client)
    db.session.flush()
    car = make_car(db, dealer_id, stock_number=f"T{tag}", model=f"Golf {tag}", year=2021, mileage=12_000, asking_price_minor=1_999_900)
    db.session.add_all(
        [
            Inquiry(dealer_id=dealer_id, client=client, name=f"{first} {person.last_name}", message=f"linked message {tag}"),
            Inquiry(
                dealer_id=dealer_id,
                name=f"{first} by mail {tag}",
                email=email,
                message=f'=HYPERLINK("http://evil.example/{tag}")',
                ip_address="203.0.113.7",
                user_agent=f"Browser {tag}",
                assigned_user_id=staff_id,
            ),
            car,
        ]
    )
    db.session.flush()
    db.session.add_all(
        [
            Sale(
                dealer_id=dealer_id,
                deal_number=f"D-{tag}",
                car=car,
                buyer=client,
                salesperson_id=staff_id,
                price_minor=1_950_000,
                currency="EUR",
                sale_date=date.today() - timedelta(days=10),
                status=SaleStatus.sold,
            ),
            Disclosure(dealer_id=dealer_id, client=client, recipient=f"Bank {tag}", purpose="Car financing", disclosed_on=date.today()),
        ]
    )
    person.client = client
    person.markers = [
        person.phone,
        person.last_name,
        f"linked message {tag}",
        f"by mail {tag}",
        f"D-{tag}",
        car.vin,
        f"Golf {tag}",
        f"Bank {tag}",
        f"notes {tag}",
    ]
    earlier = intake.file_request(
        db.session,
        request_type=RequestType.objection,
        email=email,
        dealer_id=dealer_id,
        channel=RequestChannel.officer,
        details=f"earlier details {tag}",
    )
    db.session.flush()
    db.session.add_all(
        [
            MailMessage(
                kind="extended", to_address=email, subject=f"About your request {tag}", body_text=f"mail body {tag}", request_id=earlier.id
            ),
            RectificationChange(
                request_id=earlier.id,
                table_name="client",
                row_pk=str(client.id),
                column_name="city",
                old_value=f"Oldtown {tag}",
                new_value="Berlin",
            ),
        ]
    )
    person.markers += [f"earlier details {tag}", f"mail body {tag}", f"Oldtown {tag}"]
    db.session.flush()
    return person


@pytest.fixture
def people(db, dealer_ids):
    """P at north-motors in every table; Q1 (P's e-mail, at south-cars); Q2 (north-motors).

    P's client record is restricted: restricted data is still the person's own, and a copy
    of it is theirs to have."""
    tag = uuid.uuid4().hex[:8]
    north, south = dealer_ids["north-motors"], dealer_ids["south-cars"]
    email = f"petra-{tag}@example.org"
    p = add_person(db, north, staff="north-motors-staff", email=email, first="Petra", tag=f"p{tag}", restricted=True)
    q1 = add_person(db, south, staff="south-cars-staff", email=email, first="Quentin", tag=f"qa{tag}")
    q2 = add_person(db, north, staff="north-motors-staff", email=f"quinn-{tag}@example.org", first="Quinn", tag=f"qb{tag}")
    q2.markers.append(q2.email)
    db.session.commit()
    return p, q1, q2


def process_through_queue(app, db, request: PrivacyRequest) -> PrivacyRequest:
    processing.request_processing(db.session, request, actor_id=user_id(db, "privacy"))
    db.session.commit()
    request_id = request.id
    from app.queueing import enqueue_request

    enqueue_request(request_id)
    run_queue(app)
    db.session.expire_all()
    return db.session.get(PrivacyRequest, request_id)


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# -- the package -----------------------------------------------------------------------


@pytest.fixture
def exported(app, db, store, people, dealer_ids):
    p = people[0]
    request = process_through_queue(app, db, file_access(db, p.email, dealer_ids["north-motors"]))
    return request, people


def test_the_package_holds_every_row_of_the_person_and_nothing_of_anyone_else(db, store, exported):
    request, (p, q1, q2) = exported
    assert request.status is RequestStatus.completed
    path = store / request.export_path
    assert path.is_file() and path.parent == store / "exports"
    files = read_zip(path)

    data = {name[:-5]: json.loads(body) for name, body in files.items() if name.endswith(".json") and name != "manifest.json"}
    counts = {category: len(rows) for category, rows in data.items()}
    # P's earlier request and this one; the mail and the rectification of the earlier one;
    # the change history of P's client, inquiries and sale (each created once).
    assert counts == {
        "change_history": 4,
        "clients": 1,
        "inquiries": 2,
        "sales": 1,
        "disclosures": 1,
        "privacy_requests": 2,
        "messages_sent": 1,
        "rectifications": 1,
    }
    assert {name[:-4] for name in files if name.endswith(".csv")} == set(data)
    assert {"summary.html", "manifest.json"} <= set(files)

    text = "\n".join(body.decode("utf-8-sig") for body in files.values())
    for marker in p.markers + [p.email, p.first_name]:
        assert marker in text, marker
    for other in (q1, q2):
        for marker in other.markers + [other.first_name]:
            assert marker not in text, marker
    # Nor the staff the rows point at (salesperson, assigned user).
    assert "north-motors-staff" not in text and "DealerStaff" not in text

    client = data["clients"][0]
    assert client["email"] == p.email and client["phone"] == p.phone and client["source"] == "walk_in"
    assert client["marketing_consent"] is False
    assert "assigned_user_id" not in client and "id" not in client
    sale = data["sales"][0]
    assert sale["car.make"] == "Volkswagen" and sale["sale_date"] == (date.today() - timedelta(days=10)).isoformat()
    assert sale["status"] == "sold" and sale["price_minor"] == 1_950_000
    received = {row["received_at"] for row in data["inquiries"]}
    assert all(value.endswith("Z") and "T" in value for value in received)
    assert {row["reference"] for row in data["privacy_requests"]} >= {request.reference}


def test_manifest_lists_every_file_with_its_hash_and_row_count(db, store, exported):
    request, _ = exported
    files = read_zip(store / request.export_path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format_version"] == "1"
    assert manifest["request"]["id"] == request.id and manifest["request"]["reference"] == request.reference
    assert manifest["generated_at"].endswith("Z")
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["size"] == len(files[name])
        if name.endswith(".json"):
            assert entry["rows"] == len(json.loads(files[name]))
        elif name.endswith(".csv"):
            assert entry["rows"] == len(csv_rows(files[name]))
    # The stored hash is the one of the whole ZIP.
    assert request.export_sha256 == hashlib.sha256((store / request.export_path).read_bytes()).hexdigest()
    assert request.export_size == (store / request.export_path).stat().st_size
    assert request.export_expires_at - request.export_created_at == timedelta(days=7)


def test_csv_cells_that_could_run_as_formulas_are_escaped(db, store, exported):
    request, (p, _, _) = exported
    files = read_zip(store / request.export_path)
    inquiries = csv_rows(files["inquiries.csv"])
    formula = next(row["message"] for row in inquiries if "HYPERLINK" in row["message"])
    assert formula.startswith("'=HYPERLINK(")
    client = csv_rows(files["clients.csv"])[0]
    assert client["notes"].startswith("'@notes") and client["address_line1"].startswith("'-")
    assert client["phone"] == "'" + p.phone  # a leading + is escaped too
    # JSON is for programs: the values stay exactly as stored.
    json_messages = [row["message"] for row in json.loads(files["inquiries.json"])]
    assert any(message.startswith("=HYPERLINK(") for message in json_messages)


def test_summary_explains_purposes_retention_and_rights(app, db, store, exported):
    from app.models import Inquiry as InquiryModel

    request, _ = exported
    summary = read_zip(store / request.export_path)["summary.html"].decode()
    declaration = InquiryModel.__privacy__
    with app.test_request_context(), force_locale("en"):
        for text in (
            declaration.title,
            declaration.purpose,
            declaration.legal_basis,
            declaration.retention,
            declaration.recipients,
            declaration.source,
        ):
            assert str(escape(str(text))) in summary
    assert 'lang="en"' in summary and request.reference in summary
    for right in ("Rectification", "Erasure", "Restriction", "Objection", "Data portability", "Complaint"):
        assert right in summary
    assert app.config["SUPERVISORY_AUTHORITY"] in summary
    assert "North Motors GmbH" in summary  # the controller


def test_summary_is_in_the_language_of_the_request(app, db, store, people, dealer_ids):
    p = people[0]
    request = process_through_queue(app, db, file_access(db, p.email, dealer_ids["north-motors"], language="de"))
    summary = read_zip(store / request.export_path)["summary.html"].decode()
    assert '<html lang="de">' in summary
    with app.test_request_context():
        with force_locale("de"):
            due_de = format_date(request.due_at, "long")
        with force_locale("en"):
            due_en = format_date(request.due_at, "long")
    assert due_de in summary and due_en not in summary


def test_a_platform_request_includes_the_person_s_user_account(app, db, store, people):
    from app.provisioning import create_user

    p = people[0]
    username = f"petra-{uuid.uuid4().hex[:6]}"
    create_user(username, "long-enough-password", p.email, "DealerStaff", "north-motors", first_name="Petra", last_name=p.last_name)
    request = process_through_queue(app, db, file_access(db, p.email, None, request_type=RequestType.portability))
    files = read_zip(store / request.export_path)
    accounts = json.loads(files["accounts.json"])
    assert [row["username"] for row in accounts] == [username]
    assert "password" not in accounts[0]
    assert b"pbkdf2" not in files["accounts.csv"] and b"scrypt" not in files["accounts.csv"]
    # Platform-wide, the same e-mail at both dealers is the same person.
    assert len(json.loads(files["clients.json"])) == 2


# -- the job is safe -------------------------------------------------------------------


def test_a_failed_export_leaves_no_file_and_the_request_in_progress(app, db, store, people, dealer_ids, monkeypatch):
    p = people[0]
    request = file_access(db, p.email, dealer_ids["north-motors"])
    processing.request_processing(db.session, request, actor_id=user_id(db, "privacy"))
    db.session.commit()
    request_id = request.id
    real_value, calls = export.column_value, []

    def failing(row, name):
        calls.append(name)
        if len(calls) > 20:
            raise RuntimeError("database went away")
        return real_value(row, name)

    monkeypatch.setattr(export, "column_value", failing)
    with pytest.raises(RuntimeError):
        export.run_export(request_id)
    assert list((store / "exports").iterdir()) == []
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.in_progress and request.export_path is None

    monkeypatch.setattr(export, "column_value", real_value)
    assert export.run_export(request_id).startswith("exported")
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    first = (request.export_path, request.export_sha256)
    assert request.status is RequestStatus.completed and (store / first[0]).is_file()
    # Running it again (a duplicate job) changes nothing.
    assert export.run_export(request_id) == "nothing to do"
    db.session.expire_all()
    assert (db.session.get(PrivacyRequest, request_id).export_path, db.session.get(PrivacyRequest, request_id).export_sha256) == first
    assert len(list((store / "exports").iterdir())) == 1
    assert len(events(db, request_id, "completed")) == 1


def test_progress_is_recorded_in_batches(app, db, store, people, dealer_ids, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_BATCH_SIZE", 1)
    monkeypatch.setattr(export.ExportProgress, "COMMIT_EVERY", 0)  # every batch, not every second
    seen = []
    real_report = export.progress.report

    def spy(request, phase, done, total):
        seen.append((phase, done, total))
        real_report(request, phase, done, total)

    monkeypatch.setattr(export.progress, "report", spy)
    request = process_through_queue(app, db, file_access(db, people[0].email, dealer_ids["north-motors"]))
    assert request.status is RequestStatus.completed
    assert seen[0] == ("exporting", 0, 13) and seen[-1] == ("exporting", 13, 13)  # 9 rows and their 4 of history
    assert [done for _, done, _ in seen] == list(range(14))  # one batch of one row at a time
    files = read_zip(store / request.export_path)
    assert len(json.loads(files["inquiries.json"])) == 2


# -- the download ----------------------------------------------------------------------


def completion_token(db, request: PrivacyRequest) -> str:
    message = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id, MailMessage.kind == "completed")).one()
    assert message.to_address == request.subject_email
    match = DOWNLOAD_LINK.search(message.body_text)
    assert match, "the completion notice carries the download link"
    return match.group(1)


def test_the_emailed_link_downloads_the_package_once_per_logged_event(app, db, store, exported):
    request, _ = exported
    token = completion_token(db, request)
    client = app.test_client()
    for attempt in (1, 2):
        response = client.get(f"/privacy/download/{token}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"] == f"attachment; filename=forecourt-{request.reference}.zip"
        assert response.mimetype == "application/zip"
        assert hashlib.sha256(response.data).hexdigest() == request.export_sha256
        response.close()
        downloads = events(db, request.id, "downloaded")
        assert len(downloads) == attempt and downloads[-1].actor_label == "requester"


def test_bad_links_get_a_plain_page_and_no_file(app, db, store, exported, people, dealer_ids, monkeypatch):
    request, _ = exported
    other = file_access(db, people[0].email, dealer_ids["north-motors"])
    good = make_token(DOWNLOAD, request.id, bound_to=request.export_sha256)
    client = app.test_client()

    def get(token):
        response = client.get(f"/privacy/download/{token}")
        assert response.mimetype == "text/html" and response.headers["Cache-Control"] == "no-store"
        assert request.export_sha256 not in response.get_data(as_text=True)
        return response

    assert get(good[:-3] + ("xyz" if not good.endswith("xyz") else "abc")).status_code == 404  # tampered
    assert get(make_token(DOWNLOAD, other.id, bound_to=request.export_sha256)).status_code == 404  # another request
    assert get(make_token(DOWNLOAD, request.id, bound_to="0" * 64)).status_code == 404  # another file
    assert get(make_token(VERIFY, request.id, bound_to=request.export_sha256)).status_code == 404  # another purpose
    response = get("not-a-token")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)

    from itsdangerous.timed import TimestampSigner

    eight_days_ago = int((utcnow() - timedelta(days=8)).timestamp())
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        stale = make_token(DOWNLOAD, request.id, bound_to=request.export_sha256)
    response = get(stale)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert events(db, request.id, "downloaded") == []


def test_expired_packages_are_deleted_and_their_links_stop_working(app, db, store, exported):
    request, _ = exported
    token = completion_token(db, request)
    path = store / request.export_path
    # Every package made before ours expires before it: those go, ours stays.
    export_files.delete_expired_exports(now=request.export_expires_at - timedelta(microseconds=1))
    assert path.is_file()  # not expired yet

    later = request.export_expires_at + timedelta(seconds=1)
    assert export_files.delete_expired_exports(now=later) == 1
    assert not path.exists()
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.export_path is None
    assert [e.data["reason"] for e in events(db, request.id, "export_deleted")] == ["expired"]
    assert export_files.delete_expired_exports(now=later) == 0  # idempotent
    response = app.test_client().get(f"/privacy/download/{token}")
    assert response.status_code == 410


def test_an_expired_package_is_not_served_even_before_the_sweep(app, db, store, exported):
    request, _ = exported
    token = completion_token(db, request)
    request.export_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert app.test_client().get(f"/privacy/download/{token}").status_code == 410


def test_officer_download_and_erasure_cleanup(app, db, store, exported):
    from app.public.downloads import download_response

    request, _ = exported
    officer = user_id(db, "privacy")
    with app.test_request_context():
        response = download_response(request, actor_id=officer, actor_label="officer")
        assert response.headers["Cache-Control"] == "no-store"
        response.close()
    (event,) = events(db, request.id, "downloaded")
    assert event.actor_id == officer and event.actor_label == "officer"

    path = store / request.export_path
    assert export_files.delete_exports_of(db.session, [request.id]) == 1
    db.session.commit()
    assert not path.exists() and db.session.get(PrivacyRequest, request.id).export_path is None
    assert export_files.delete_exports_of(db.session, [request.id]) == 0
    with app.test_request_context(), pytest.raises(export_files.ExportUnavailable):
        download_response(request, actor_id=officer, actor_label="officer")
