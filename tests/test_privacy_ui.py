"""The privacy officer's and the dealer admin's request pages: the queue, filing,
the request page's actions, the status the progress bar polls, tenancy and roles."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

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
from app.models.base import utcnow
from app.privacy.requests import intake
from tests.factories import new_dealer, new_email
from tests.privacy_support import reload, user_id
from tests.queue_support import run_queue

LIST = "/privacyrequestview/list/"
ADD = "/privacyrequestview/add"


def show_url(pk: int) -> str:
    return f"/privacyrequestview/show/{pk}"


def file(db, *, days_ago: float = 0, dealer_id=None, request_type=RequestType.access, email=None, **kw) -> PrivacyRequest:
    """A request filed by the officer (so already verified), received ``days_ago``."""
    request = intake.file_request(
        db.session,
        request_type=request_type,
        email=email or new_email("ui"),
        dealer_id=dealer_id,
        channel=kw.pop("channel", RequestChannel.officer),
        now=utcnow() - timedelta(days=days_ago),
        **kw,
    )
    db.session.commit()
    return request


def request_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(PrivacyRequest))


def delete_job(app, pk: int) -> None:
    """Take this test's job off the queue again: no later worker run is to process it."""
    from rq.job import Job

    from app.extensions import redis_connection

    Job.fetch(f"privacy-request-{pk}", connection=redis_connection()).delete()


@pytest.fixture
def fresh_dealer(db) -> int:
    """A dealer of this test alone, so the queue can be filtered down to its requests."""
    return new_dealer(db, business_name="Queue Test Cars").id


def row_of(html: str, reference: str) -> str:
    rows = [row for row in html.split("<tr") if reference in row and "/privacyrequestview/show/" in row]
    assert len(rows) == 1, f"{reference} is listed {len(rows)} times"
    return rows[0]


# -- the queue -------------------------------------------------------------------------


def test_queue_is_sorted_by_due_date_with_overdue_and_due_soon_badges(db, login, fresh_dealer):
    later = file(db, days_ago=10, dealer_id=fresh_dealer)  # due in 20 days
    overdue = file(db, days_ago=31, dealer_id=fresh_dealer)  # due yesterday
    closed = file(db, days_ago=40, dealer_id=fresh_dealer)
    intake.cancel(db.session, closed)
    db.session.commit()
    soon = file(db, days_ago=27, dealer_id=fresh_dealer)  # due in 3 days

    response = login("privacy").get(f"{LIST}?_flt_0_dealer={fresh_dealer}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    positions = [html.index(r.reference) for r in (overdue, soon, later, closed)]
    assert positions == sorted(positions), "open requests by due date first, closed ones last"
    assert "privacy-due-overdue" in row_of(html, overdue.reference)
    assert "privacy-due-due_soon" in row_of(html, soon.reference)
    assert "privacy-due" not in row_of(html, later.reference)
    assert "privacy-due" not in row_of(html, closed.reference)
    # The list shows a masked identifier only.
    assert later.subject_email not in html
    assert later.subject_email[:1] + "•••@e•••.org" in html
    assert "Queue Test Cars" in row_of(html, later.reference)


def test_whole_platform_requests_are_labelled_and_duplicates_marked(db, login):
    address = new_email("ui")
    first = file(db, email=address)
    second = file(db, email=address)
    html = login("privacy").get(f"{LIST}?_flt_0_reference={second.reference}").get_data(as_text=True)
    row = row_of(html, second.reference)
    assert "Whole platform" in row
    assert "privacy-duplicate" in row
    page = login("privacy").get(show_url(second.id)).get_data(as_text=True)
    assert show_url(first.id) in page and first.reference in page


# -- tenancy and roles -----------------------------------------------------------------


def test_dealer_admin_sees_only_its_own_dealers_requests(db, login, dealer_ids):
    address = new_email("ui")
    own = file(db, email=address, dealer_id=dealer_ids["north-motors"])
    other = file(db, email=address, dealer_id=dealer_ids["south-cars"])
    platform = file(db, email=address)
    north = login("north-motors-admin")

    for item, visible in ((own, True), (other, False), (platform, False)):
        listing = north.get(f"{LIST}?_flt_0_reference={item.reference}").get_data(as_text=True)
        assert (show_url(item.id) in listing) is visible
        assert north.get(show_url(item.id)).status_code == (200 if visible else 404)
        assert north.get(f"/privacyrequestview/status/{item.id}").status_code == (200 if visible else 404)

    before = reload(db, other.id).due_at
    response = north.post_form(f"/privacyrequestview/refuse/{other.id}", {"refuse-reason": "not ours"}, form_url=show_url(own.id))
    assert response.status_code == 404
    response = north.post_form(f"/privacyrequestview/cancel/{platform.id}", {}, form_url=show_url(own.id))
    assert response.status_code == 404
    assert reload(db, other.id).status is RequestStatus.verified and reload(db, other.id).due_at == before
    assert reload(db, platform.id).status is RequestStatus.verified

    officer = login("privacy")
    for item in (own, other, platform):
        assert officer.get(show_url(item.id)).status_code == 200
    page = officer.get(show_url(own.id)).get_data(as_text=True)
    assert address in page  # the request page shows the identifiers to those who process it


@pytest.mark.parametrize("username", ["north-motors-staff", "staff"])
def test_staff_and_dealer_staff_have_no_access(db, login, dealer_ids, username):
    item = file(db, dealer_id=dealer_ids["north-motors"])
    browser = login(username)
    for url in (LIST, ADD, show_url(item.id), f"/privacyrequestview/status/{item.id}", "/recordofprocessing/"):
        response = browser.get(url)
        assert response.status_code in (302, 403), url
    response = browser.post_form(f"/privacyrequestview/cancel/{item.id}", {}, form_url="/resetmypassword/form")
    assert response.status_code in (302, 403)
    assert reload(db, item.id).status is RequestStatus.verified


def test_no_edit_or_delete_of_a_request(db, login):
    item = file(db)
    browser = login("admin")
    assert browser.get(f"/privacyrequestview/edit/{item.id}").status_code == 404
    assert browser.post_form(f"/privacyrequestview/delete/{item.id}", {}, form_url=LIST).status_code == 404
    assert reload(db, item.id) is not None


def test_every_post_needs_the_csrf_token(db, login):
    item = file(db)
    response = login("privacy").client.post(f"/privacyrequestview/cancel/{item.id}", data={})
    assert response.status_code == 400
    assert reload(db, item.id).status is RequestStatus.verified


# -- filing ----------------------------------------------------------------------------


def test_officer_files_a_request_for_a_dealer_or_the_whole_platform(db, login, dealer_ids):
    browser = login("privacy")
    address = new_email("ui")
    response = browser.post_form(
        ADD,
        {"request_type": "access", "dealer": str(dealer_ids["south-cars"]), "email": address, "name": "Pat Doe", "language": "de"},
    )
    assert response.status_code == 302
    item = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.subject_email == address))
    assert response.headers["Location"].endswith(show_url(item.id))
    assert item.dealer_id == dealer_ids["south-cars"]
    assert item.channel is RequestChannel.officer and item.status is RequestStatus.verified
    assert item.created_by_id == user_id(db, "privacy") and item.language == "de"
    assert item.due_at == item.received_at + timedelta(days=30)

    response = browser.post_form(ADD, {"request_type": "objection", "dealer": "", "email": new_email("ui"), "language": "en"})
    assert response.status_code == 302
    assert reload(db, int(response.headers["Location"].rsplit("/", 1)[1])).dealer_id is None


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"request_type": "access", "email": ""}, "Enter the e-mail address we can reach you at."),
        ({"request_type": "access", "email": "not-an-address"}, "Enter a valid email address."),
        ({"request_type": "access", "email": "p@example.org", "phone": "12"}, "phone number"),
        ({"request_type": "rectification", "email": "p@example.org"}, "Tell us which details are wrong"),
        ({"request_type": "teleport", "email": "p@example.org"}, "Not a valid choice"),
    ],
)
def test_filing_form_rejects_bad_input_and_files_nothing(db, login, fields, message):
    before = request_count(db)
    response = login("privacy").post_form(ADD, {"dealer": "", "language": "en", **fields})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert request_count(db) == before


def test_dealer_admin_files_for_its_own_dealer_and_may_start_from_a_client(db, login, dealer_ids):
    north = dealer_ids["north-motors"]
    client = Client(dealer_id=north, first_name="Kim", last_name=f"Filer{uuid.uuid4().hex[:6]}", email=new_email("ui"), country="DE")
    foreign = Client(dealer_id=dealer_ids["south-cars"], first_name="Lee", last_name="Other", email=new_email("ui"), country="DE")
    db.session.add_all([client, foreign])
    db.session.commit()
    browser = login("north-motors-admin")

    form = browser.get(ADD).get_data(as_text=True)
    assert 'name="dealer"' not in form and f'value="{client.id}"' in form and f'value="{foreign.id}"' not in form

    # A dealer chosen in the posted data is ignored: the dealer admin's own dealer is the scope.
    response = browser.post_form(ADD, {"request_type": "erasure", "client": str(client.id), "dealer": str(dealer_ids["south-cars"])})
    assert response.status_code == 302
    item = reload(db, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (item.dealer_id, item.client_id, item.channel) == (north, client.id, RequestChannel.dealer_admin)
    assert item.subject_email == client.email and item.subject_name == client.full_name
    assert item.created_by_id == user_id(db, "north-motors-admin")

    before = request_count(db)
    response = browser.post_form(ADD, {"request_type": "erasure", "client": str(foreign.id)})
    assert response.status_code == 422
    assert request_count(db) == before


# -- the request page's actions --------------------------------------------------------


def extend(browser, item, **data):
    fields = {f"extend-{k}": v for k, v in data.items()}
    return browser.post_form(f"/privacyrequestview/extend/{item.id}", fields, form_url=show_url(item.id))


def test_extension_rules_through_the_page(db, login):
    item = file(db, days_ago=1)
    due = item.due_at
    browser = login("privacy")

    response = extend(browser, item, new_due=(due + timedelta(days=20)).date().isoformat(), reason="")
    assert response.status_code == 422
    assert "Give the reason for the extension" in response.get_data(as_text=True)
    response = extend(browser, item, new_due=(due + timedelta(days=70)).date().isoformat(), reason="Many systems")
    assert "at most two months" in response.get_data(as_text=True)
    response = extend(browser, item, new_due="", reason="Many systems")
    assert response.status_code == 422 and "Enter the new due date." in response.get_data(as_text=True)
    assert reload(db, item.id).due_at == due and reload(db, item.id).extended_at is None

    response = extend(browser, item, new_due=(due + timedelta(days=30)).date().isoformat(), reason="Many systems")
    assert response.status_code == 302
    extended = reload(db, item.id)
    assert extended.due_at == due + timedelta(days=30) and extended.original_due_at == due
    assert extended.extension_reason == "Many systems"
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert "privacy-extension" in page and "Many systems" in page and "privacy-event-extended" in page

    response = extend(browser, item, new_due=(due + timedelta(days=40)).date().isoformat(), reason="Again")
    assert response.status_code == 404 or "only once" in response.get_data(as_text=True)
    assert reload(db, item.id).due_at == due + timedelta(days=30)


def test_an_overdue_request_cannot_be_extended(db, login):
    item = file(db, days_ago=31)
    response = extend(login("privacy"), item, new_due=(item.due_at + timedelta(days=20)).date().isoformat(), reason="Late")
    assert "only be extended before it has passed" in response.get_data(as_text=True)
    assert reload(db, item.id).extended_at is None


def test_refusal_needs_a_reason_and_closes_the_request(db, login):
    item = file(db, days_ago=2)
    browser = login("privacy")
    url = f"/privacyrequestview/refuse/{item.id}"
    response = browser.post_form(url, {"refuse-reason": "  "}, form_url=show_url(item.id))
    assert response.status_code == 422
    assert "Give the reason for the refusal" in response.get_data(as_text=True)
    assert reload(db, item.id).status is RequestStatus.verified

    response = browser.post_form(url, {"refuse-reason": "Manifestly unfounded"}, form_url=show_url(item.id))
    assert response.status_code == 302
    refused = reload(db, item.id)
    assert refused.status is RequestStatus.refused and refused.refusal_reason == "Manifestly unfounded"
    events = db.session.scalars(select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == item.id)).all()
    assert [e.actor_id for e in events if e.kind == "refused"] == [user_id(db, "privacy")]
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert "privacy-event-refused" in page and ">privacy<" in page  # who did it, by user name

    response = browser.post_form(f"/privacyrequestview/cancel/{item.id}", {}, form_url=LIST)
    assert response.status_code == 422 and "already closed" in response.get_data(as_text=True)
    assert reload(db, item.id).status is RequestStatus.refused


def test_process_enqueues_the_job_and_status_reports_it(app, db, login):
    from rq.job import Job

    from app.extensions import redis_connection

    item = file(db, request_type=RequestType.portability)
    browser = login("privacy")
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert f"/privacyrequestview/process/{item.id}" in page
    response = browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 302
    try:
        assert reload(db, item.id).status is RequestStatus.in_progress
        job = Job.fetch(f"privacy-request-{item.id}", connection=redis_connection())
        assert job.args == (item.id,)  # ids only, no personal data

        status = browser.get(f"/privacyrequestview/status/{item.id}")
        assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
        body = status.json
        assert body["status"] == "in_progress" and body["phase"] == "queued"
        assert body["percent"] == 0 and body["job"]["status"] == "queued"
        page = browser.get(show_url(item.id)).get_data(as_text=True)
        assert "privacy-progress-bar" in page and "forecourt/privacy-progress.js" in page

        # Processing twice is harmless: the same job.
        response = browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show_url(item.id))
        assert response.status_code in (302, 422)
        assert Job.fetch(f"privacy-request-{item.id}", connection=redis_connection()).id == job.id
    finally:
        delete_job(app, item.id)


def test_the_progress_script_is_served_by_the_app(app):
    response = app.test_client().get("/static/forecourt/privacy-progress.js")
    assert response.status_code == 200 and b"data-status-url" in response.data


def test_an_erasure_is_not_processed_without_its_preview(db, login):
    item = file(db, request_type=RequestType.erasure)
    browser = login("privacy")
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert "Preview erasure" in page and "Confirm and erase" not in page
    response = browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 422 and "erasure preview" in response.get_data(as_text=True)
    response = browser.post_form(f"/privacyrequestview/erase/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 422
    assert reload(db, item.id).status is RequestStatus.verified


def test_erasure_preview_then_confirm(app, db, login, dealer_ids):
    address = new_email("ui")
    db.session.add(Client(dealer_id=dealer_ids["north-motors"], first_name="Eve", last_name="Gone", email=address, country="DE"))
    db.session.commit()
    item = file(db, request_type=RequestType.erasure, email=address, dealer_id=dealer_ids["north-motors"])
    browser = login("north-motors-admin")
    response = browser.post_form(f"/privacyrequestview/preview/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 302
    preview = reload(db, item.id).erasure_preview
    assert [t["delete"] for t in preview["tables"] if t["table"] == "client"] == [1]
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert 'id="erasure-preview"' in page and 'data-table="client"' in page and "Confirm and erase" in page
    assert "privacy-event-erasure_previewed" in page
    response = browser.post_form(f"/privacyrequestview/erase/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 302
    try:
        erased = reload(db, item.id)
        assert erased.status is RequestStatus.in_progress
        assert erased.erasure_confirmed_by_id == user_id(db, "north-motors-admin")
    finally:
        delete_job(app, item.id)


def test_rectification_shows_current_values_and_stores_old_and_new(db, login, dealer_ids):
    north = dealer_ids["north-motors"]
    address = new_email("ui")
    client = Client(dealer_id=north, first_name="Ruth", last_name="Wrongname", email=address, city="Bonn", country="DE")
    db.session.add(client)
    db.session.commit()
    item = file(db, request_type=RequestType.rectification, email=address, dealer_id=north, details="My name is Rightname")
    browser = login("north-motors-admin")
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert f'name="new-client-{client.id}-last_name"' in page and "Wrongname" in page
    assert browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show_url(item.id)).status_code == 422

    response = browser.post_form(
        f"/privacyrequestview/rectify/{item.id}", {f"new-client-{client.id}-last_name": "Rightname"}, form_url=show_url(item.id)
    )
    assert response.status_code == 302
    proposal = reload(db, item.id).rectification_proposal
    assert proposal == [{"table": "client", "pk": client.id, "column": "last_name", "old": "Wrongname", "new": "Rightname"}]
    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert 'id="rectification-proposal"' in page and "Rightname" in page
    db.session.expire_all()
    assert db.session.get(Client, client.id).last_name == "Wrongname"  # applied only by the job

    response = browser.post_form(f"/privacyrequestview/rectify/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 422 and "at least one corrected value" in response.get_data(as_text=True)
    assert reload(db, item.id).rectification_proposal == proposal


def test_export_download_from_the_request_page(app, db, login, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    item = file(db)
    browser = login("privacy")
    assert browser.get(f"/privacyrequestview/export/{item.id}").status_code == 404
    package = place_export(app, db, item, tmp_path)
    response = browser.get(f"/privacyrequestview/export/{item.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and response.mimetype == "application/zip"
    assert response.data == package
    kinds = db.session.scalars(select(PrivacyRequestEvent.kind).where(PrivacyRequestEvent.request_id == item.id)).all()
    assert "downloaded" in kinds


def place_export(app, db, item: PrivacyRequest, store) -> bytes:
    """A package put in place by hand, the way the export job leaves it."""
    import hashlib
    import io
    import zipfile

    from app.privacy.requests import export_files

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "{}")
    data = buffer.getvalue()
    path = export_files.export_dir() / f"request-{item.id}-test.zip"
    path.write_bytes(data)
    item = reload(db, item.id)
    item.export_path = path.relative_to(export_files.data_dir()).as_posix()
    item.export_sha256 = hashlib.sha256(data).hexdigest()
    item.export_size = len(data)
    item.export_created_at = utcnow()
    item.export_expires_at = utcnow() + timedelta(days=7)
    db.session.commit()
    return data


# -- record of processing --------------------------------------------------------------


def test_record_of_processing_lists_every_registry_entry(app, login):
    from app.privacy.registry import entries

    response = login("privacy").get("/recordofprocessing/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    with app.app_context():
        for entry in entries():
            assert f'data-category="{entry.category}"' in html
    assert "Legal obligation (GDPR Art. 6(1)(c)" in html and "controller" in html
    assert len(re.findall(r'class="privacy-record-entry"', html)) == len(entries())
    assert login("north-motors-admin").get("/recordofprocessing/").status_code in (302, 403)


def test_menu_offers_privacy_to_the_officer_and_the_dealer_admin(login):
    officer = login("privacy").get("/").get_data(as_text=True)
    assert "/privacyrequestview/list/" in officer and "/recordofprocessing/" in officer
    dealer = login("north-motors-admin").get("/").get_data(as_text=True)
    assert "/privacyrequestview/list/" in dealer and "/recordofprocessing/" not in dealer
    assert "/privacyrequestview/list/" not in login("north-motors-staff").get("/").get_data(as_text=True)


def test_lifting_a_completed_restriction_tells_the_person_first(app, db, login, dealer_ids):
    north = dealer_ids["north-motors"]
    address = new_email("ui")
    client = Client(dealer_id=north, first_name="Rae", last_name="Restricted", email=address, country="DE")
    db.session.add(client)
    db.session.commit()
    item = file(db, request_type=RequestType.restriction, email=address, dealer_id=north)
    browser = login("north-motors-admin")
    assert browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show_url(item.id)).status_code == 302
    run_queue(app)
    assert reload(db, item.id).status is RequestStatus.completed

    page = browser.get(show_url(item.id)).get_data(as_text=True)
    assert f"/privacyrequestview/lift/{item.id}" in page
    response = browser.post_form(f"/privacyrequestview/lift/{item.id}", {}, form_url=show_url(item.id))
    assert response.status_code == 302
    lifted = reload(db, item.id)
    assert lifted.restriction_lift_requested_at is not None
    db.session.expire_all()
    assert db.session.get(Client, client.id).restricted_at is not None  # until the person has been told
    response = browser.post_form(f"/privacyrequestview/lift/{item.id}", {}, form_url=LIST)
    assert response.status_code == 422 and "already been asked for" in response.get_data(as_text=True)
