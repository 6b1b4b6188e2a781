"""REST resource ``privacy_request`` (contract): filing, listing, status, ``process`` and
``download``, with the same tenant rules as the web queue; jobs run on the real queue."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.models import (
    Client,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.privacy.requests import intake
from tests.factories import new_email
from tests.privacy_support import reload, user_id
from tests.queue_support import run_queue

URL = "/api/v1/privacy_request/"


def file(db, *, dealer_id=None, request_type=RequestType.access, email=None) -> PrivacyRequest:
    request = intake.file_request(
        db.session, request_type=request_type, email=email or new_email("api"), dealer_id=dealer_id, channel=RequestChannel.officer
    )
    db.session.commit()
    return request


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(PrivacyRequest))


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    return tmp_path


# -- filing ----------------------------------------------------------------------------


def test_officer_files_a_request(db, api, dealer_ids):
    address = new_email("api")
    response = api("privacy").post(URL, json={"request_type": "access", "email": address, "dealer": dealer_ids["south-cars"]})
    assert response.status_code == 201, response.json
    item = reload(db, response.json["id"])
    assert item.subject_email == address and item.dealer_id == dealer_ids["south-cars"]
    assert item.channel is RequestChannel.officer and item.status is RequestStatus.verified
    assert item.created_by_id == user_id(db, "privacy")
    assert response.json["result"]["reference"] == item.reference

    platform = api("privacy").post(URL, json={"request_type": "objection", "email": new_email("api"), "dealer": None})
    assert platform.status_code == 201 and reload(db, platform.json["id"]).dealer_id is None


def test_dealer_admin_files_for_its_own_dealer_only(db, api, dealer_ids):
    north, south = dealer_ids["north-motors"], dealer_ids["south-cars"]
    client = Client(dealer_id=north, first_name="Ada", last_name="Api", email=new_email("api"), country="DE")
    foreign = Client(dealer_id=south, first_name="Bo", last_name="Api", email=new_email("api"), country="DE")
    db.session.add_all([client, foreign])
    db.session.commit()
    admin = api("north-motors-admin")

    response = admin.post(URL, json={"request_type": "erasure", "client": client.id})
    assert response.status_code == 201, response.json
    item = reload(db, response.json["id"])
    assert (item.dealer_id, item.client_id, item.subject_email) == (north, client.id, client.email)
    assert item.channel is RequestChannel.dealer_admin

    before = count(db)
    response = admin.post(URL, json={"request_type": "access", "email": new_email("api"), "dealer": south})
    assert response.status_code == 422 and "dealer" in response.json["message"]
    response = admin.post(URL, json={"request_type": "access", "client": foreign.id})
    assert response.status_code == 422 and "client" in response.json["message"]
    assert count(db) == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"request_type": "access"}, "email"),
        ({"request_type": "access", "email": "nope"}, "email"),
        ({"request_type": "delete-everything", "email": "p@example.org"}, "request_type"),
        ({"request_type": "rectification", "email": "p@example.org"}, "details"),
        ({"request_type": "access", "email": "p@example.org", "language": "xx"}, "language"),
        ({"email": "p@example.org"}, "request_type"),
    ],
)
def test_filing_rejects_bad_input_with_a_message(db, api, body, field):
    before = count(db)
    response = api("privacy").post(URL, json=body)
    assert response.status_code == 422
    assert field in response.json["message"] and response.json["message"][field]
    assert count(db) == before


# -- reading and tenancy ---------------------------------------------------------------


def test_tenant_isolation(db, api, dealer_ids):
    address = new_email("api")
    own = file(db, email=address, dealer_id=dealer_ids["north-motors"])
    other = file(db, email=address, dealer_id=dealer_ids["south-cars"])
    platform = file(db, email=address)
    north = api("north-motors-admin")

    listed = north.get(f"{URL}?q=(filters:!((col:reference,opr:eq,value:'{own.reference}')))")
    assert listed.status_code == 200 and listed.json["ids"] == [own.id]
    for item in (other, platform):
        assert north.get(f"{URL}?q=(filters:!((col:reference,opr:eq,value:'{item.reference}')))").json["ids"] == []
        assert north.get(f"{URL}{item.id}").status_code == 404
        assert north.post(f"{URL}{item.id}/process", json={}).status_code == 404
        assert north.get(f"{URL}{item.id}/download").status_code == 404
        assert north.put(f"{URL}{item.id}", json={"details": "x"}).status_code in (404, 405)
        assert north.delete(f"{URL}{item.id}").status_code in (404, 405)
        assert reload(db, item.id).status is RequestStatus.verified

    officer = api("privacy")
    for item in (own, other, platform):
        assert officer.get(f"{URL}{item.id}").status_code == 200


@pytest.mark.parametrize("username", ["staff", "north-motors-staff"])
def test_staff_roles_have_no_access(db, api, username):
    item = file(db)
    client = api(username)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{item.id}").status_code == 403
    assert client.post(f"{URL}{item.id}/process", json={}).status_code == 403
    assert client.post(URL, json={"request_type": "access", "email": new_email("api")}).status_code == 403
    assert reload(db, item.id).status is RequestStatus.verified


def test_list_shows_masked_identifiers_and_show_the_status(db, api):
    item = file(db)
    officer = api("privacy")
    listed = officer.get(f"{URL}?q=(filters:!((col:reference,opr:eq,value:'{item.reference}')))")
    assert listed.status_code == 200
    assert item.subject_email not in listed.get_data(as_text=True)
    row = listed.json["result"][0]
    assert row["subject_hint"].endswith("@e•••.org") and row["status"] == "verified"

    shown = officer.get(f"{URL}{item.id}").json["result"]
    for key in (
        "status",
        "due_at",
        "received_at",
        "request_type",
        "reference",
        "phase",
        "progress_done",
        "progress_total",
        "export_expires_at",
        "erasure_preview",
        "certificate",
        "percent",
        "due_state",
        "job",
    ):
        assert key in shown, key
    assert shown["subject_email"] == item.subject_email
    assert shown["due_state"] == "on_time" and shown["percent"] == 0 and shown["job"] == {}


def test_put_and_delete_are_not_offered(db, api):
    item = file(db)
    officer = api("admin")
    assert officer.put(f"{URL}{item.id}", json={"details": "changed"}).status_code == 405
    assert officer.delete(f"{URL}{item.id}").status_code == 405
    assert reload(db, item.id).details is None


# -- process and download --------------------------------------------------------------


def test_process_answers_202_with_the_job(app, db, api):
    from rq.job import Job

    from app.extensions import redis_connection

    item = file(db, request_type=RequestType.objection)
    response = api("privacy").post(f"{URL}{item.id}/process", json={})
    assert response.status_code == 202, response.json
    assert response.json == {"job_id": f"privacy-request-{item.id}", "status": "in_progress", "queued": True}
    assert Job.fetch(f"privacy-request-{item.id}", connection=redis_connection()).args == (item.id,)
    assert api("privacy").post(f"{URL}{item.id}/process", json={}).status_code == 202  # harmless twice

    shown = api("privacy").get(f"{URL}{item.id}").json["result"]
    assert shown["status"] == "in_progress" and shown["job"]["status"] == "queued"
    run_queue(app)
    assert reload(db, item.id).status is RequestStatus.completed


def test_process_refuses_what_cannot_be_processed(db, api):
    item = file(db)
    intake.cancel(db.session, reload(db, item.id))
    db.session.commit()
    response = api("privacy").post(f"{URL}{item.id}/process", json={})
    assert response.status_code == 422 and response.json["message"]["_schema"]
    assert reload(db, item.id).status is RequestStatus.cancelled


def test_erasure_answers_409_with_the_preview_then_202_when_confirmed(app, db, api, dealer_ids):
    address = new_email("api")
    north = dealer_ids["north-motors"]
    db.session.add(Client(dealer_id=north, first_name="Erin", last_name="Erase", email=address, country="DE"))
    db.session.commit()
    item = file(db, request_type=RequestType.erasure, email=address, dealer_id=north)
    admin = api("north-motors-admin")

    response = admin.post(f"{URL}{item.id}/process", json={})
    assert response.status_code == 409
    assert '"confirm": true' in response.json["message"]
    assert [t["delete"] for t in response.json["erasure_preview"]["tables"] if t["table"] == "client"] == [1]
    assert reload(db, item.id).status is RequestStatus.verified
    assert reload(db, item.id).erasure_preview is not None
    assert admin.post(f"{URL}{item.id}/process", json={"confirm": "yes"}).status_code == 409  # only a real true

    response = admin.post(f"{URL}{item.id}/process", json={"confirm": True})
    assert response.status_code == 202, response.json
    assert response.json["job_id"] == f"privacy-request-{item.id}"
    erased = reload(db, item.id)
    assert erased.status is RequestStatus.in_progress and erased.erasure_confirmed_by_id == user_id(db, "north-motors-admin")
    run_queue(app)
    assert reload(db, item.id).status is RequestStatus.completed
    assert db.session.scalar(select(func.count()).select_from(Client).where(Client.email == address)) == 0


def test_download_after_the_export_job(app, db, api, store, dealer_ids):
    address = new_email("api")
    north = dealer_ids["north-motors"]
    db.session.add(Client(dealer_id=north, first_name="Dora", last_name="Download", email=address, country="DE"))
    db.session.commit()
    item = file(db, request_type=RequestType.portability, email=address, dealer_id=north)
    admin = api("north-motors-admin")
    assert admin.get(f"{URL}{item.id}/download").status_code == 404

    assert admin.post(f"{URL}{item.id}/process", json={}).status_code == 202
    run_queue(app)
    done = reload(db, item.id)
    assert done.status is RequestStatus.completed and done.export_path

    response = admin.get(f"{URL}{item.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/zip" and response.headers["Cache-Control"] == "no-store"
    assert hashlib.sha256(response.data).hexdigest() == done.export_sha256
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert "manifest.json" in archive.namelist()
    downloads = db.session.scalars(
        select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == item.id, PrivacyRequestEvent.kind == "downloaded")
    ).all()
    assert [e.actor_id for e in downloads] == [user_id(db, "north-motors-admin")]

    assert api("south-cars-admin").get(f"{URL}{item.id}/download").status_code == 404
    shown = admin.get(f"{URL}{item.id}").json["result"]
    assert shown["export_expires_at"] and shown["status"] == "completed" and shown["percent"] == 100


def test_info_and_openapi_describe_the_resource(api):
    info = api("privacy").get(f"{URL}_info")
    assert info.status_code == 200
    assert {c["name"] for c in info.json["add_columns"]} >= {"request_type", "email", "dealer", "client"}
    paths = api("admin").get("/api/v1/_openapi").json["paths"]
    assert {URL, f"{URL}{{pk}}/process", f"{URL}{{pk}}/download"} <= set(paths)


def test_process_is_accepted_when_redis_is_away_and_left_to_the_reconciler(db, api, monkeypatch):
    from app import queueing

    def redis_down(request_id):
        raise ConnectionError("redis is away")

    monkeypatch.setattr(queueing, "enqueue_request", redis_down)
    item = file(db, request_type=RequestType.objection)
    response = api("privacy").post(f"{URL}{item.id}/process", json={})
    assert response.status_code == 202
    body = response.json
    assert body["job_id"] == f"privacy-request-{item.id}" and body["status"] == "in_progress"
    assert body["queued"] is False and body["message"]  # says so (tests/test_redis_away.py)
    assert reload(db, item.id).status is RequestStatus.in_progress  # committed: the reconciler finds it
