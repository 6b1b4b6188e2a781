"""Erasure that finishes and says the truth (issue 11, item 2).

One matching rule finds the person's rows and verifies that none is left: the exact
identifiers (e-mail, phone), searched in every text column of every table. A row that
only shares the name is a possible other person for the privacy officer to confirm or
dismiss, never a failure; an identifier in a column the registry does not declare
personal fails the erasure and names the column. Each test has its own dealer and
people (jobs commit).
"""

from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import JSON, String, Text, select

from app.models import CarCost, Client, ErasureLedgerEntry, Inquiry, PrivacyRequest, PrivacyRequestEvent, RequestStatus
from app.privacy.registry import entry_for
from app.privacy.requests import lookalikes
from app.privacy.requests.scan import BOOKKEEPING_COLUMNS, scan_all_text_columns
from app.queueing import enqueue_request, request_job_id
from tests.factories import Person, add_client, add_inquiry, make_car, new_dealer, new_email, new_person, new_phone
from tests.privacy_support import confirm, file_erasure, reload, user_id
from tests.queue_support import run_queue


def process(app, db, request_id: int) -> PrivacyRequest:
    """The erasure job through the real queue (a job that failed before is dropped first)."""
    from app.extensions import redis_connection

    if Job.exists(request_job_id(request_id), connection=redis_connection()):
        Job.fetch(request_job_id(request_id), connection=redis_connection()).delete()
    enqueue_request(request_id)
    run_queue(app)
    return reload(db, request_id)


def events(db, request_id: int, kind: str) -> list[PrivacyRequestEvent]:
    query = select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == request_id, PrivacyRequestEvent.kind == kind)
    return list(db.session.scalars(query.order_by(PrivacyRequestEvent.id)))


def same_name_as(person: Person) -> Person:
    """Another person with the same first and last name (another address and phone)."""
    return Person(email=new_email("lookalike"), phone=new_phone(), first_name=person.first_name, last_name=person.last_name)


def row_values(db, model, pk: int) -> tuple:
    return tuple(db.session.execute(select(model.__table__).where(model.__table__.c.id == pk)).one())


def erasure_of(db, person: Person, dealer_id: int) -> PrivacyRequest:
    request = file_erasure(db, person, dealer_id, actor="privacy")
    db.session.commit()
    confirm(db, request)
    return request


# -- finding: a client with the same name --------------------------------------------------


def test_a_client_with_the_same_name_does_not_block_an_erasure(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    dealer = new_dealer(db).id
    p = new_person()
    add_inquiry(db, p, dealer, client=add_client(db, p, dealer))
    other = same_name_as(p)
    other_client = add_client(db, other, dealer)
    other_inquiry = add_inquiry(db, other, dealer, client=other_client)
    db.session.commit()
    before = {"client": row_values(db, Client, other_client.id), "inquiry": row_values(db, Inquiry, other_inquiry.id)}
    request = erasure_of(db, p, dealer)

    # The person's rows go; the look-alike is listed for the officer, not a failure.
    request = process(app, db, request.id)
    assert (request.status, request.phase, request.failure) == (RequestStatus.in_progress, lookalikes.REVIEW, None)
    assert {(f.table, f.pk) for f in lookalikes.pending(db.session, request)} == {
        ("client", other_client.id),
        ("inquiry", other_inquiry.id),
    }
    assert [e.data["table"] for e in events(db, request.id, "possible_other_person")] == ["client", "inquiry"]
    assert events(db, request.id, "verification_failed") == []
    assert db.session.get(Client, p.rows["client"][0]) is None
    assert process(app, db, request.id).phase == lookalikes.REVIEW  # queued again: still waiting, nothing more reported
    assert len(events(db, request.id, "possible_other_person")) == 2

    # The officer dismisses both: logged with who, when, what; then the erasure completes.
    officer = user_id(db, "privacy")
    left = lookalikes.decide(db.session, request, "client", other_client.id, "dismiss", officer)
    assert [(f.table, f.pk) for f in left] == [("inquiry", other_inquiry.id)]
    assert lookalikes.decide(db.session, request, "inquiry", other_inquiry.id, "dismiss", officer) == []
    db.session.commit()
    dismissed = events(db, request.id, lookalikes.DISMISSED)
    assert [(e.actor_id, e.data) for e in dismissed] == [
        (officer, {"table": "client", "row": other_client.id}),
        (officer, {"table": "inquiry", "row": other_inquiry.id}),
    ]
    assert all(e.at is not None for e in dismissed)

    request = process(app, db, request.id)
    assert request.status is RequestStatus.completed, request.failure
    verification = request.certificate["verification"]
    assert (verification["hits"], verification["possible_other_people"]) == (0, {"confirmed": 0, "dismissed": 2})
    assert {"client": row_values(db, Client, other_client.id), "inquiry": row_values(db, Inquiry, other_inquiry.id)} == before
    assert scan_all_text_columns(db.session, [p.email, p.phone]) == {}


def test_a_confirmed_look_alike_is_erased_with_its_inquiries(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    dealer = new_dealer(db).id
    p = new_person()
    add_client(db, p, dealer)
    other = same_name_as(p)  # the same person, filed under an old address
    old_client = add_client(db, other, dealer)
    old_inquiry = add_inquiry(db, other, dealer, client=old_client)
    db.session.commit()
    client_id, inquiry_id = old_client.id, old_inquiry.id  # the rows are about to go
    request = process(app, db, erasure_of(db, p, dealer).id)
    assert request.phase == lookalikes.REVIEW

    lookalikes.decide(db.session, request, "client", client_id, "confirm", user_id(db, "privacy"))
    db.session.commit()
    assert db.session.get(Client, client_id) is None and db.session.get(Inquiry, inquiry_id) is None
    assert [e.data for e in events(db, request.id, lookalikes.CONFIRMED)] == [{"table": "client", "row": client_id, "action": "delete"}]
    ledgered = db.session.execute(
        select(ErasureLedgerEntry.table_name, ErasureLedgerEntry.row_pk).where(ErasureLedgerEntry.request_id == request.id)
    ).all()
    assert {("client", str(client_id)), ("inquiry", str(inquiry_id))} <= set(ledgered)
    # The inquiry went with its client: nothing is waiting any more, the erasure is queued.
    assert lookalikes.pending(db.session, request) == [] and request.phase == "queued"
    request = process(app, db, request.id)
    assert request.status is RequestStatus.completed, request.failure
    assert request.certificate["verification"]["possible_other_people"] == {"confirmed": 1, "dismissed": 0}
    assert scan_all_text_columns(db.session, [p.email, p.phone, other.email, other.phone]) == {}


# -- verifying: every text column -----------------------------------------------------------


def national(phone: str) -> str:
    """+49151… as people write it in a note: 0151 1234 5678."""
    digits = phone.removeprefix("+49")
    return f"0{digits[:3]} {digits[3:7]} {digits[7:]}"


def test_an_identifier_in_an_undeclared_column_fails_the_erasure_and_names_the_column(app, db, monkeypatch):
    from app.extensions import redis_connection

    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    dealer = new_dealer(db).id
    p = new_person()
    add_client(db, p, dealer)
    car = make_car(db, dealer)
    cost = CarCost(
        dealer_id=dealer, car_id=car.id, amount_minor=25_000, currency="EUR", note=f"Transport for {p.name}, call {national(p.phone)}"
    )
    db.session.add(cost)
    db.session.commit()
    assert entry_for("car_cost") is None  # the registry does not declare the note personal
    request = erasure_of(db, p, dealer)

    request = process(app, db, request.id)
    assert (request.status, request.phase) == (RequestStatus.in_progress, "verification_failed")
    assert request.failure.startswith("Identifiers in columns the registry does not declare personal: car_cost.note (1).")
    assert p.phone not in request.failure and p.name not in request.failure
    [failed] = events(db, request.id, "verification_failed")
    assert failed.data == {"hits": {"car_cost": 1}, "undeclared": ["car_cost.note"]}
    assert request.certificate is None
    job = Job.fetch(request_job_id(request.id), connection=redis_connection())
    assert job.is_failed or job.is_scheduled  # loudly: the job failed (RQ retries it later)

    # Once the note no longer names the person, the same erasure completes.
    db.session.get(CarCost, cost.id).note = "Transport"
    db.session.commit()
    request = process(app, db, request.id)
    assert request.status is RequestStatus.completed, request.failure
    assert request.certificate["verification"]["hits"] == 0


def test_the_certificate_counts_every_text_column(app, db, monkeypatch):
    from app.extensions import db as database

    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    dealer = new_dealer(db).id
    p = new_person()
    add_client(db, p, dealer)
    db.session.commit()
    request = process(app, db, erasure_of(db, p, dealer).id)
    assert request.status is RequestStatus.completed, request.failure

    text = [
        f"{table.name}.{column.name}"
        for table in database.metadata.sorted_tables
        for column in table.columns
        if isinstance(getattr(column.type, "impl", column.type), (String, Text, JSON))
    ]
    scanned = [name for name in text if name not in BOOKKEEPING_COLUMNS]
    undeclared = [
        name for name in scanned if (e := entry_for(name.split(".")[0])) is None or name.split(".")[1] not in e.declaration.personal
    ]
    verification = request.certificate["verification"]
    assert verification["columns_scanned"] == len(scanned)
    assert verification["tables_scanned"] == len({name.split(".")[0] for name in scanned})
    assert verification["undeclared_columns_scanned"] == len(undeclared)
    assert "car_cost.note" in undeclared and "inquiry.message" in scanned
    assert set(BOOKKEEPING_COLUMNS) <= set(text)  # every skipped column exists (and is named with its reason)
    assert (verification["hits"], verification["kept_on_purpose"]) == (0, {})


# -- the request page: confirm / dismiss --------------------------------------------------


@pytest.fixture
def waiting(db):
    """An erasure in progress with one possible other person reported (a look-alike client)."""
    dealer = new_dealer(db).id
    p = new_person()
    look = add_client(db, same_name_as(p), dealer)
    request = file_erasure(db, p, dealer, actor="privacy")
    db.session.commit()
    confirm(db, request)
    lookalikes.record(db.session, request, [lookalikes.Lookalike("client", look.id, ("first_name", "last_name"))])
    request.phase = lookalikes.REVIEW
    db.session.commit()
    yield request, look
    from app.extensions import redis_connection

    if Job.exists(request_job_id(request.id), connection=redis_connection()):
        Job.fetch(request_job_id(request.id), connection=redis_connection()).delete()  # no later test runs it


def decisions(db, request_id: int) -> list[PrivacyRequestEvent]:
    return events(db, request_id, lookalikes.DISMISSED) + events(db, request_id, lookalikes.CONFIRMED)


def decide_url(request) -> str:
    return f"/privacyrequestview/lookalike/{request.id}"


def show_url(request) -> str:
    return f"/privacyrequestview/show/{request.id}"


def test_the_officer_sees_the_possible_other_person_and_dismisses_it(db, login, waiting):
    request, look = waiting
    browser = login("privacy")
    page = browser.get(show_url(request)).get_data(as_text=True)
    assert f'data-table="client" data-row="{look.id}"' in page and look.email in page

    response = browser.post_form(
        decide_url(request), {"table": "client", "row": look.id, "decision": "dismiss"}, form_url=show_url(request)
    )
    assert response.status_code == 302
    [event] = decisions(db, request.id)
    assert (event.kind, event.actor_id, event.data) == (lookalikes.DISMISSED, user_id(db, "privacy"), {"table": "client", "row": look.id})
    assert reload(db, request.id).phase == "queued"  # the last decision queues the erasure again
    assert db.session.get(Client, look.id).email == look.email
    assert 'data-table="client"' not in browser.get(show_url(request)).get_data(as_text=True)


def test_the_officer_confirms_a_possible_other_person_and_it_is_erased(db, login, waiting):
    request, look = waiting
    look_id = look.id
    browser = login("privacy")
    response = browser.post_form(
        decide_url(request), {"table": "client", "row": look_id, "decision": "confirm"}, form_url=show_url(request)
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, look_id) is None
    assert [(e.kind, e.data["action"]) for e in decisions(db, request.id)] == [(lookalikes.CONFIRMED, "delete")]


@pytest.mark.parametrize(
    "fields",
    [
        {"decision": "forget"},  # neither
        {"decision": "dismiss", "row": 0},  # not reported
        {"decision": "dismiss", "table": "inquiry"},  # not reported
        {"decision": ""},
    ],
)
def test_a_bad_decision_is_refused_and_changes_nothing(db, login, waiting, fields):
    request, look = waiting
    data = {"table": "client", "row": look.id, **fields}
    response = login("privacy").post_form(decide_url(request), data, form_url=show_url(request))
    assert response.status_code == 422
    assert decisions(db, request.id) == [] and reload(db, request.id).phase == lookalikes.REVIEW
    assert db.session.get(Client, look.id) is not None


def test_a_decision_needs_the_csrf_token(db, login, waiting):
    request, look = waiting
    response = login("privacy").client.post(decide_url(request), data={"table": "client", "row": look.id, "decision": "dismiss"})
    assert response.status_code == 400
    assert decisions(db, request.id) == []


@pytest.mark.parametrize("username", ["north-motors-staff", "north-motors-admin"])
def test_dealer_staff_cannot_decide_on_possible_other_people(db, login, waiting, username):
    request, look = waiting
    browser = login(username)
    response = browser.post_form(
        decide_url(request), {"table": "client", "row": look.id, "decision": "confirm"}, form_url="/resetmypassword/form"
    )
    assert response.status_code in (302, 403)
    assert decisions(db, request.id) == [] and db.session.get(Client, look.id) is not None
