"""Restriction (GDPR Art. 18), objection to direct marketing (Art. 21), the disclosure
log and the notices to recipients (Art. 19) — through the real queue, HTTP and the API."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import DomainError
from app.models import (
    Client,
    Disclosure,
    Inquiry,
    MailMessage,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
    RequestType,
    Sale,
)
from app.privacy.requests import intake, restriction
from app.privacy.requests.recipients import notify_recipients
from tests.factories import Customer, disclose, make_customer, uid
from tests.privacy_support import TEST_QUEUE, acting_user, events, file_and_process, messages, run_request_jobs, user_id
from tests.queue_support import run_queue

A, B = "north-motors", "south-cars"
A_ADMIN, A_STAFF = "north-motors-admin", "north-motors-staff"
# -- factories -------------------------------------------------------------------------


def restricted(db, person: Customer) -> dict[str, bool]:
    db.session.expire_all()
    return {
        "client": db.session.get(Client, person.client.id).restricted_at is not None,
        "inquiry": db.session.get(Inquiry, person.inquiry.id).restricted_at is not None,
        "sale": db.session.get(Sale, person.sale.id).restricted_at is not None,
    }


def shown_ids(html: str, base: str) -> set[int]:
    return {int(pk) for pk in re.findall(rf"{re.escape(base)}/show/(\d+)", html)}


@pytest.fixture(scope="module")
def officer_admin(app):
    """An Admin who also holds the PrivacyOfficer role (the only kind of user who can
    open restricted rows in the CRUD screens)."""
    from config import DEMO_PASSWORD

    with app.app_context():
        sm = app.appbuilder.sm
        username = f"officer-admin-{uid()}"
        roles = [sm.find_role("Admin"), sm.find_role("PrivacyOfficer")]
        sm.add_user(username, "Olga", "Officer", f"{username}@forecourt.example", roles, password=DEMO_PASSWORD)
    return username


# -- restriction -------------------------------------------------------------------------


def test_restriction_hides_and_freezes_the_persons_rows_and_tells_recipients(app, db, login, api, dealer_ids, officer_admin):
    p = make_customer(db, dealer_ids[A])
    look_alike = make_customer(db, dealer_ids[B], email=p.email)  # same e-mail, another dealer
    neighbour = make_customer(db, dealer_ids[A])  # another person at the same dealer
    bank = disclose(db, p, f"finance-{uid()}@bank.example")
    disclose(db, p, None)  # told by other means
    disclose(db, neighbour, f"other-{uid()}@bank.example")

    request_id = file_and_process(db, RequestType.restriction, p.email, dealer_ids[A])
    run_request_jobs(app)

    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.completed
    assert restricted(db, p) == {"client": True, "inquiry": True, "sale": True}
    assert restricted(db, look_alike) == restricted(db, neighbour) == {"client": False, "inquiry": False, "sale": False}
    [event] = events(db, request_id, "restricted")
    assert event.data["rows"] == {"client": 1, "inquiry": 1, "sale": 1}
    [notified] = events(db, request_id, "recipients_notified")
    assert notified.data == {"action": "restriction", "notified": 1, "to_notify_by_other_means": 1}
    [notice] = messages(db, request_id, "recipient_notice")
    assert notice.to_address == bank.recipient_email and notice.scrub_after_send and notice.sent_at is None
    assert len(messages(db, request_id, "completed")) == 1

    run_queue(app)  # the mail jobs
    db.session.expire_all()
    notice = db.session.get(MailMessage, notice.id)
    assert notice.sent_at is not None and notice.to_address is None  # sent, then scrubbed

    for username in (A_ADMIN, A_STAFF):
        browser = login(username)
        listing = browser.get("/clientmodelview/list/?psize_ClientModelView=1000").get_data(as_text=True)
        assert p.client.id not in shown_ids(listing, "/clientmodelview")
        assert neighbour.client.id in shown_ids(listing, "/clientmodelview")
        found = browser.get(f"/clientmodelview/list/?_flt_3_email={p.email}").get_data(as_text=True)
        assert shown_ids(found, "/clientmodelview") == set()
        found = browser.get(f"/clientmodelview/list/?_flt_3_email={neighbour.email}").get_data(as_text=True)
        assert shown_ids(found, "/clientmodelview") == {neighbour.client.id}  # the search itself works
        for base, pk in (("/clientmodelview", p.client.id), ("/inquirymodelview", p.inquiry.id), ("/salemodelview", p.sale.id)):
            assert browser.get(f"{base}/show/{pk}").status_code == 404
            assert browser.get(f"{base}/edit/{pk}").status_code in (403, 404)
        sales = browser.get("/salemodelview/list/?psize_SaleModelView=1000").get_data(as_text=True)
        assert p.sale.id not in shown_ids(sales, "/salemodelview")
        add_inquiry = browser.get("/inquirymodelview/add").get_data(as_text=True)
        client_options = re.search(r'<select[^>]*name="client"[^>]*>(.*?)</select>', add_inquiry, re.DOTALL).group(1)
        assert f'value="{p.client.id}"' not in client_options
        assert f'value="{neighbour.client.id}"' in client_options

        rest = api(username)
        search = "/api/v1/client/?q=(page_size:100,filters:!((col:email,opr:eq,value:'%s')))"
        assert rest.get(search % p.email).json["ids"] == []
        assert rest.get(search % neighbour.email).json["ids"] == [neighbour.client.id]
        assert rest.get(f"/api/v1/client/{p.client.id}").status_code == 404
        assert rest.put(f"/api/v1/client/{p.client.id}", json={"city": "Elsewhere"}).status_code == 404
        assert rest.delete(f"/api/v1/client/{p.client.id}").status_code == 404
        assert rest.get(f"/api/v1/inquiry/{p.inquiry.id}").status_code == 404
        assert rest.get(f"/api/v1/sale/{p.sale.id}").status_code == 404
        new_inquiry = rest.post("/api/v1/inquiry/", json={"name": "Visitor", "client": p.client.id})
        assert new_inquiry.status_code == 422 and "client" in new_inquiry.json["message"]

    # Admin alone does not see restricted rows; the privacy officer does, read-only.
    assert login("admin").get(f"/clientmodelview/show/{p.client.id}").status_code == 404
    officer = login(officer_admin)
    assert p.email in officer.get(f"/clientmodelview/show/{p.client.id}").get_data(as_text=True)
    edit = officer.post_form(
        f"/clientmodelview/edit/{p.client.id}",
        {"first_name": "Changed", "last_name": "Name", "source": "walk_in"},
        form_url=f"/clientmodelview/edit/{p.client.id}",
        follow_redirects=True,
    )
    assert "This record is restricted" in edit.get_data(as_text=True)
    deleted = officer.post_form(f"/clientmodelview/delete/{p.client.id}", {}, form_url="/clientmodelview/list/", follow_redirects=True)
    assert "This record is restricted" in deleted.get_data(as_text=True)
    officer_api = api(officer_admin)
    assert officer_api.get(f"/api/v1/client/{p.client.id}").status_code == 200
    assert officer_api.put(f"/api/v1/client/{p.client.id}", json={"city": "Elsewhere"}).status_code == 422
    assert officer_api.delete(f"/api/v1/client/{p.client.id}").status_code == 422
    db.session.expire_all()
    client = db.session.get(Client, p.client.id)
    assert client is not None and client.first_name == "Pat" and client.city is None


def test_restriction_job_is_idempotent(app, db, dealer_ids):
    from app.queueing import enqueue_unique, request_job_id

    p = make_customer(db, dealer_ids[A])
    disclose(db, p, f"finance-{uid()}@bank.example")
    request_id = file_and_process(db, RequestType.restriction, p.email, dealer_ids[A])
    run_request_jobs(app)
    db.session.expire_all()
    stamp = db.session.get(Client, p.client.id).restricted_at
    enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(request_id), request_id, queue_name=TEST_QUEUE)
    run_request_jobs(app)
    db.session.expire_all()
    assert db.session.get(Client, p.client.id).restricted_at == stamp
    assert len(messages(db, request_id, "recipient_notice")) == 1
    assert len(events(db, request_id, "completed")) == 1
    # Telling the recipients twice for the same action is refused quietly.
    request = db.session.get(PrivacyRequest, request_id)
    assert notify_recipients(db.session, request, "restriction", [p.client.id]) == 0
    db.session.rollback()


def test_lifting_tells_the_person_first_and_keeps_the_rows_restricted_until_then(app, db, login, dealer_ids):
    p = make_customer(db, dealer_ids[A])
    request_id = file_and_process(db, RequestType.restriction, p.email, dealer_ids[A])
    run_request_jobs(app)
    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    officer = user_id(db, "privacy")

    restriction.request_lift(db.session, request, actor_id=officer)
    db.session.commit()
    [notice] = messages(db, request_id, "restriction_lifting")
    assert notice.to_address == p.email and notice.sent_at is None
    assert request.restriction_lift_requested_at is not None
    assert len(events(db, request_id, "restriction_lift_requested")) == 1
    assert restricted(db, p) == {"client": True, "inquiry": True, "sale": True}
    # Nothing is lifted before the person has been told.
    assert restriction.complete_lift(db.session, request_id) == 0
    assert restricted(db, p)["client"]
    with pytest.raises(DomainError, match="already been asked"):
        restriction.request_lift(db.session, db.session.get(PrivacyRequest, request_id), actor_id=officer)

    run_queue(app)  # sends the notice; the mailer then lifts the restriction
    db.session.expire_all()
    assert db.session.get(MailMessage, notice.id).sent_at is not None
    assert restricted(db, p) == {"client": False, "inquiry": False, "sale": False}
    [lifted] = events(db, request_id, "restriction_lifted")
    assert lifted.data["rows"] == {"client": 1, "inquiry": 1, "sale": 1}
    assert restriction.complete_lift(db.session, request_id) == 0  # idempotent
    assert login(A_STAFF).get(f"/clientmodelview/show/{p.client.id}").status_code == 200


def test_lifting_is_refused_unless_a_restriction_is_in_place(app, db, dealer_ids):
    p = make_customer(db, dealer_ids[A])
    officer = acting_user(db, dealer_ids[A])
    open_request = intake.file_request(
        db.session,
        request_type=RequestType.restriction,
        email=p.email,
        dealer_id=dealer_ids[A],
        channel=RequestChannel.dealer_admin,
        actor_id=officer,
    )
    db.session.flush()
    with pytest.raises(DomainError, match="carried out"):
        restriction.request_lift(db.session, open_request, actor_id=officer)
    db.session.rollback()

    request_id = file_and_process(db, RequestType.restriction, p.email, dealer_ids[A])
    run_request_jobs(app)
    db.session.expire_all()
    for row in (db.session.get(Client, p.client.id), db.session.get(Inquiry, p.inquiry.id), db.session.get(Sale, p.sale.id)):
        row.restricted_at = None
    db.session.commit()
    with pytest.raises(DomainError, match="Nothing of this person"):
        restriction.request_lift(db.session, db.session.get(PrivacyRequest, request_id), actor_id=officer)
    db.session.rollback()
    assert messages(db, request_id, "restriction_lifting") == []


def test_lifting_keeps_business_records_an_erasure_restricted(app, db, dealer_ids):
    p = make_customer(db, dealer_ids[A])
    request_id = file_and_process(db, RequestType.restriction, p.email, dealer_ids[A])
    run_request_jobs(app)
    db.session.expire_all()
    # As an erasure does: the kept sale now points at an anonymised placeholder buyer.
    placeholder = Client(dealer_id=dealer_ids[A], first_name="Erased", last_name="Client", is_erasure_placeholder=True)
    db.session.add(placeholder)
    kept = db.session.get(Sale, p.sale.id)
    kept.buyer = placeholder
    db.session.commit()
    request = db.session.get(PrivacyRequest, request_id)
    restriction.request_lift(db.session, request, actor_id=None)
    db.session.commit()
    run_queue(app)
    db.session.expire_all()
    assert restricted(db, p) == {"client": False, "inquiry": False, "sale": True}


# -- objection to direct marketing --------------------------------------------------------


def test_objection_clears_consent_at_once_and_consent_cannot_come_back(app, db, login, api, dealer_ids):
    p = make_customer(db, dealer_ids[A], consent=True)
    elsewhere = make_customer(db, dealer_ids[B], email=p.email, consent=True)
    request_id = file_and_process(db, RequestType.objection, p.email, dealer_ids[A])
    run_request_jobs(app)

    db.session.expire_all()
    client = db.session.get(Client, p.client.id)
    assert client.marketing_consent is False and client.marketing_objected_at is not None
    assert db.session.get(Client, elsewhere.client.id).marketing_consent is True  # another controller
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.completed
    [event] = events(db, request_id, "marketing_objection_recorded")
    assert event.data == {"clients": 1, "consents_withdrawn": 1}
    assert len(messages(db, request_id, "completed")) == 1

    browser = login(A_ADMIN)
    form_url = f"/clientmodelview/edit/{client.id}"
    page = browser.post_form(
        form_url,
        {
            "first_name": client.first_name,
            "last_name": client.last_name,
            "email": client.email,
            "phone": client.phone,
            "country": "DE",
            "source": "walk_in",
            "marketing_consent": "y",
        },
        follow_redirects=True,
    )
    assert "objected to direct marketing" in page.get_data(as_text=True)
    response = api(A_ADMIN).put(f"/api/v1/client/{client.id}", json={"marketing_consent": True})
    assert response.status_code == 422 and "marketing_consent" in response.json["message"]
    db.session.expire_all()
    assert db.session.get(Client, client.id).marketing_consent is False

    # Only once the objection itself is withdrawn may consent be recorded again.
    from app.domain.clients import withdraw_objection

    client = db.session.get(Client, client.id)
    client.marketing_consent = True
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    client = db.session.get(Client, p.client.id)
    withdraw_objection(client)
    client.marketing_consent = True
    db.session.commit()
    assert db.session.get(Client, p.client.id).marketing_consent is True


# -- the disclosure log -------------------------------------------------------------------


def _disclosure_form(dealer_id: int, client_id: int, **overrides) -> dict:
    form = {
        "dealer": str(dealer_id),
        "client": str(client_id),
        "recipient": "Auto Finance AG",
        "recipient_email": "privacy@autofinance.example",
        "purpose": "Financing the purchase",
        "data_categories": "contact details",
        "disclosed_on": str(date.today()),
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"recipient_email": "not-an-address"}, "Enter a valid email address"),
        ({"recipient": "   "}, "Name the recipient and the purpose"),
        ({"purpose": ""}, "This field is required"),
        ({"disclosed_on": str(date.today() + timedelta(days=2))}, "cannot be in the future"),
    ],
)
def test_a_bad_disclosure_is_refused_and_nothing_is_saved(db, login, dealer_ids, overrides, message):
    p = make_customer(db, dealer_ids[A])
    before = db.session.scalar(select(func.count()).select_from(Disclosure))
    page = login(A_STAFF).post_form(
        "/disclosuremodelview/add", _disclosure_form(dealer_ids[A], p.client.id, **overrides), follow_redirects=True
    )
    assert message in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Disclosure)) == before


def test_disclosures_are_logged_per_dealer(db, login, dealer_ids):
    p = make_customer(db, dealer_ids[A])
    foreign = make_customer(db, dealer_ids[B])
    theirs = disclose(db, foreign, f"x-{uid()}@bank.example")
    browser = login(A_ADMIN)
    add_page = browser.get("/disclosuremodelview/add").get_data(as_text=True)
    options = re.search(r'<select[^>]*name="client"[^>]*>(.*?)</select>', add_page, re.DOTALL).group(1)
    assert f'value="{p.client.id}"' in options and f'value="{foreign.client.id}"' not in options

    recipient = f"Insurer {uid()}"
    browser.post_form("/disclosuremodelview/add", _disclosure_form(dealer_ids[A], p.client.id, recipient=recipient), follow_redirects=True)
    mine = db.session.scalar(select(Disclosure).where(Disclosure.recipient == recipient))
    assert mine is not None and mine.dealer_id == dealer_ids[A] and mine.client_id == p.client.id
    assert mine.recipient_email == "privacy@autofinance.example"
    # Another dealer's client cannot be chosen, and another dealer's log is a 404.
    before = db.session.scalar(select(func.count()).select_from(Disclosure))
    browser.post_form("/disclosuremodelview/add", _disclosure_form(dealer_ids[A], foreign.client.id), follow_redirects=True)
    assert db.session.scalar(select(func.count()).select_from(Disclosure)) == before
    assert browser.get(f"/disclosuremodelview/show/{theirs.id}").status_code == 404
    listing = browser.get("/disclosuremodelview/list/?psize_DisclosureModelView=1000").get_data(as_text=True)
    assert mine.id in shown_ids(listing, "/disclosuremodelview")
    assert theirs.id not in shown_ids(listing, "/disclosuremodelview")
    # The client page lists its disclosures.
    assert recipient in browser.get(f"/clientmodelview/show/{p.client.id}").get_data(as_text=True)
    assert login(A_STAFF).get("/disclosuremodelview/list/").status_code == 200
