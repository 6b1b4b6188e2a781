"""Words people use (issue 13 item 4): messages and titles name the record, the user form
has no LDAP/OID hints, and a privacy request's history, failure and certificate read as
sentences and tables, never as raw keys, ISO times or JSON."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.models import Car, PrivacyRequest, PrivacyRequestEvent, RequestStatus
from app.security import DealerUser
from tests.factories import add_client, add_inquiry, make_car, new_person
from tests.privacy_support import confirm, file_erasure
from tests.queue_support import run_queue

FLASHES = re.compile(r'class="alert[^"]*"[^>]*>(.*?)</div>', re.DOTALL)


def _flashes(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>|\s+", " ", m) for m in FLASHES.findall(html))


def _car_form(car: Car) -> dict:
    return {
        "stock_number": car.stock_number,
        "vin": car.vin,
        "year": str(car.year),
        "make": car.make,
        "model": car.model,
        "mileage": "1000",
        "mileage_unit": "km",
        "condition": "used",
        "status": "available",
        "currency": "EUR",
        "asking_price": "15000.00",
        "fuel": "petrol",
        "acquired_on": date.today().isoformat(),
    }


def test_a_cars_page_is_titled_by_the_car_and_saving_or_deleting_names_it(db, login, dealer_ids):
    car = make_car(db, dealer_ids["north-motors"], make="Volkswagen", model="Passat", year=2020)
    db.session.commit()
    admin = login("north-motors-admin")

    show = admin.get(f"/carmodelview/show/{car.id}").get_data(as_text=True)
    assert f"<title>Volkswagen Passat 2020 ({car.stock_number}) · " in show
    assert show.count(f"Volkswagen Passat 2020 ({car.stock_number})") == 2  # the tab and the page's heading

    edit = admin.get(f"/carmodelview/edit/{car.id}").get_data(as_text=True)
    assert f"<title>Edit Volkswagen Passat 2020 ({car.stock_number}) · " in edit

    saved = admin.post_form(f"/carmodelview/edit/{car.id}", _car_form(car), follow_redirects=True)
    assert saved.status_code == 200
    assert f"Car {car.stock_number} saved" in _flashes(saved.get_data(as_text=True))
    assert "Changed Row" not in saved.get_data(as_text=True)

    deleted = admin.post_form(f"/carmodelview/delete/{car.id}", {}, form_url=f"/carmodelview/show/{car.id}", follow_redirects=True)
    assert f"Car {car.stock_number} deleted" in _flashes(deleted.get_data(as_text=True))
    assert db.session.get(Car, car.id) is None


def test_adding_a_client_names_the_client_in_the_message(db, login, dealer_ids):
    admin = login("north-motors-admin")
    form = {
        "dealer": str(dealer_ids["north-motors"]),
        "first_name": "Olena",
        "last_name": "Kovalenko-Words",
        "email": "olena.words@example.org",
        "source": "walk_in",
    }
    added = admin.post_form("/clientmodelview/add", form, follow_redirects=True)
    html = added.get_data(as_text=True)
    assert "Client Olena Kovalenko-Words added" in _flashes(html), re.findall(r"help-block[^>]*>([^<]*)", html) + [_flashes(html)]


def test_a_refused_save_keeps_the_refusal_and_names_nothing(db, login, dealer_ids):
    car = make_car(db, dealer_ids["north-motors"])
    db.session.commit()
    admin = login("north-motors-admin")
    form = {**_car_form(car), "vin": "INVALIDVIN123"}
    refused = admin.post_form(f"/carmodelview/edit/{car.id}", form).get_data(as_text=True)
    assert "saved" not in _flashes(refused)


def test_the_user_form_has_no_ldap_or_oid_hints_in_any_language(db, login):
    admin = login("admin")
    user_id = db.session.scalar(select(DealerUser.id).where(DealerUser.username == "north-motors-staff"))
    for language in ("en", "uk", "de"):
        for url in (f"/users/edit/{user_id}?_l_={language}", f"/users/add?_l_={language}"):
            html = admin.get(url).get_data(as_text=True)
            for technical in ("LDAP", "OID", "OpenID"):
                assert technical not in html, f"{technical} on {url}"
    html = admin.get(f"/users/edit/{user_id}?_l_=en").get_data(as_text=True)
    assert "The name this person signs in with." in html
    assert "What this person may see and do." in html


def test_an_erasure_reads_as_sentences_and_tables_never_as_keys_or_json(app, db, login, dealer_ids):
    from app.queueing import enqueue_unique, request_job_id

    person = new_person()
    client = add_client(db, person, dealer_ids["north-motors"])
    add_inquiry(db, person, dealer_ids["north-motors"], client=client)
    request = file_erasure(db, person, dealer_ids["north-motors"], actor="privacy")
    db.session.commit()
    confirm(db, request)
    pk = request.id
    officer = login("privacy")

    # The preview's "Counted at" is a time in the reader's locale, not an ISO string.
    for language in ("en", "uk"):
        html = officer.get(f"/privacyrequestview/show/{pk}?_l_={language}").get_data(as_text=True)
        counted = html.split('class="panel panel-warning privacy-preview', 1)[1].split("</ul>", 1)[0]
        assert "+00:00" not in counted and re.search(r"\d{4}-\d\d-\d\dT", counted) is None

    enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(pk), pk)
    run_queue(app)
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, pk).status is RequestStatus.completed
    for language in ("en", "uk"):
        html = officer.get(f"/privacyrequestview/show/{pk}?_l_={language}").get_data(as_text=True)
        history = html.split('id="privacy-events"', 1)[1]
        for raw in ("channel:", "dealer_admin", "erasure previewed", "{'", "{&#39;", "ledger entries:", "+00:00"):
            assert raw not in history, f"{raw!r} in the {language} history"
        assert re.search(r"\d{4}-\d\d-\d\dT", history) is None
        certificate = html.split('class="panel panel-success privacy-certificate"', 1)[1].split('class="panel panel-default', 1)[0]
        assert "<pre>" not in certificate and '"ledger_entries"' not in certificate and "+00:00" not in certificate
        assert 'class="table table-condensed privacy-certificate-summary"' in certificate
    english = officer.get(f"/privacyrequestview/show/{pk}?_l_=en").get_data(as_text=True)
    assert "Request received" in english and "Erasure previewed" in english and "Request completed" in english
    assert "Channel: Dealer administrator · Type: Erasure (Art. 17)" in english
    assert "Records erased or anonymised" in english
    ukrainian = officer.get(f"/privacyrequestview/show/{pk}?_l_=uk").get_data(as_text=True)
    # The certificate names the client table as people know it, in Ukrainian.
    assert "Записи про клієнтів" in ukrainian.split('class="panel panel-success privacy-certificate"', 1)[1]


def test_a_failed_verification_is_explained_from_the_event_in_the_readers_words(app, db, login, dealer_ids):
    person = new_person()
    add_client(db, person, dealer_ids["north-motors"])
    request = file_erasure(db, person, dealer_ids["north-motors"], actor="privacy")
    db.session.flush()
    request.failure = "The verification scan still found the person's identifiers in: client (1)"
    from app.privacy.requests import intake

    intake.record_event(db.session, request, "verification_failed", hits={"client": 1}, undeclared=[])
    db.session.commit()
    html = login("privacy").get(f"/privacyrequestview/show/{request.id}").get_data(as_text=True)
    failure = re.search(r'class="privacy-failure">(.*?)</td>', html, re.DOTALL).group(1)
    assert failure.strip() == "The verification scan still found the person&#39;s identifiers in: Client records: 1."
    assert "client (1)" not in failure
    event = db.session.scalars(select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == request.id)).all()[-1]
    assert event.kind == "verification_failed"
    history = html.split('id="privacy-events"', 1)[1]
    assert "Verification scan found data left" in history and "hits:" not in history
