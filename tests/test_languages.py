"""Which language and time zone a person sees (issue 5), over HTTP.

The order: a signed-in user's saved preference, then the switcher's choice (kept in the
session), then the browser's Accept-Language, then English. Dates in the dealer's time
zone; lists, forms and mails in the reader's language; the API stays machine-readable.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.domain.enum_labels import enum_label
from app.domain.formatting import format_datetime, format_relative
from app.i18n.languages import choose_language, force_timezone, user_language
from app.models import (
    Dealer,
    Inquiry,
    InquiryStatus,
    MailMessage,
    PrivacyRequest,
    RequestChannel,
)
from app.security import DealerUser
from tests.web_support import Browser, csrf_token

FORM = "/privacy/request"
NBSP = "\u00a0"


def lang_of(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang> on the page"
    return match.group(1)


# FAB's pages have no <html lang>: the sign-out link in the navbar tells their language.
SIGN_OUT = {"en": ">Logout<", "uk": ">Вийти<", "de": ">Abmelden<"}


def screen_language(response) -> str:
    html = response.get_data(as_text=True)
    found = [code for code, text in SIGN_OUT.items() if text in html]
    assert len(found) == 1, f"cannot tell the language of the page: {found}"
    return found[0]


def visitor(app, accept_language: str | None = None):
    client = app.test_client()
    if accept_language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


def signed_in(app, username: str, accept_language: str | None = None) -> Browser:
    browser = Browser(visitor(app, accept_language), username)
    assert browser.login().status_code == 302
    return browser


@contextmanager
def preference(db, username: str, language: str | None):
    """The demo user's saved language for the test; the old one is put back after it."""
    user = db.session.scalars(select(DealerUser).where(DealerUser.username == username)).one()
    saved = user.preferred_language
    user.preferred_language = language
    db.session.commit()
    try:
        yield user.id
    finally:
        db.session.rollback()
        user = db.session.get(DealerUser, user.id)
        user.preferred_language = saved
        db.session.commit()


def saved_language(db, user_id: int) -> str | None:
    db.session.rollback()
    return db.session.get(DealerUser, user_id).preferred_language


# -- the order, as a rule ------------------------------------------------------------------


SUPPORTED = ("en", "uk", "de")


@pytest.mark.parametrize(
    ("saved", "chosen", "accepted", "expected"),
    [
        ("uk", "de", ["en"], "uk"),  # the saved preference first
        (None, "de", ["uk"], "de"),  # then the switcher
        (None, None, ["fr-FR", "de-AT", "en"], "de"),  # then the browser, region dropped
        (None, None, ["uk-UA"], "uk"),
        (None, None, ["fr", "es"], "en"),  # then English
        ("xx", "yy", [], "en"),  # nothing unsupported is ever used
    ],
)
def test_the_order_of_the_language_choice(saved, chosen, accepted, expected):
    assert choose_language(supported=SUPPORTED, saved=saved, chosen=chosen, accepted=accepted) == expected


# -- anonymous visitors of public pages ------------------------------------------------------


def test_accept_language_de_gives_german_to_an_anonymous_visitor(app):
    page = visitor(app, "de-DE,de;q=0.9,en;q=0.5").get(FORM)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and lang_of(page) == "de"
    assert "Ihre Datenschutzrechte" in html and "Anfrage senden" in html
    assert "Your privacy rights" not in html


def test_accept_language_uk_gives_ukrainian_and_no_header_gives_english(app):
    assert lang_of(visitor(app, "uk").get(FORM)) == "uk"
    assert "Ваші права щодо персональних даних" in visitor(app, "uk").get(FORM).get_data(as_text=True)
    assert lang_of(visitor(app).get(FORM)) == "en"
    assert lang_of(visitor(app, "fr-FR,fr;q=0.9").get(FORM)) == "en"


def test_reading_a_public_page_sets_no_cookie(app):
    response = visitor(app, "de").get("/privacy")
    assert response.status_code == 200 and lang_of(response) == "de"
    assert response.headers.getlist("Set-Cookie") == []


def test_the_public_switcher_keeps_the_choice_in_the_session_and_comes_back(app):
    client = visitor(app, "de")
    page = client.get(FORM).get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]*/lang/uk[^"]*)"', page)
    assert form, "no Ukrainian button in the public language switcher"
    response = client.post(form.group(1).replace("&amp;", "&"))
    assert response.status_code == 302 and response.headers["Location"].endswith(FORM)
    # Only the session cookie: the choice lives in it.
    cookies = [c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")]
    assert cookies == [app.config.get("SESSION_COOKIE_NAME", "session")]
    # The choice beats the browser's Accept-Language from now on.
    assert lang_of(client.get(FORM)) == "uk"
    assert lang_of(client.get("/privacy")) == "uk"


def test_an_explicit_l_parameter_wins_for_that_page(app):
    client = visitor(app, "de")
    client.post("/lang/uk")
    assert lang_of(client.get(f"{FORM}?_l_=de")) == "de"
    assert lang_of(client.get(FORM)) == "uk"


def test_the_switcher_refuses_unknown_languages_and_other_hosts(app):
    client = visitor(app)
    assert client.post("/lang/xx").status_code == 404
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
    ):
        response = client.post("/lang/de", query_string={"next": target})
        assert response.status_code == 302
        assert "evil.example" not in response.headers["Location"]


def test_a_request_filed_in_ukrainian_gets_its_mail_in_ukrainian(app, db):
    client = visitor(app, "uk")
    email = f"lang-{uuid.uuid4().hex[:8]}@example.org"
    data = {"request_type": "access", "email": email, "dealer": "platform", "name": "", "phone": "", "details": ""}
    response = client.post(FORM, data={**data, "csrf_token": csrf_token(client, FORM)})
    assert response.status_code == 200 and lang_of(response) == "uk"
    reference = re.search(r'class="reference">([A-Z0-9-]+)<', response.get_data(as_text=True)).group(1)
    filed = db.session.scalars(select(PrivacyRequest).where(PrivacyRequest.reference == reference)).one()
    assert filed.language == "uk"
    message = db.session.scalars(select(MailMessage).where(MailMessage.request_id == filed.id)).one()
    assert message.language == "uk"
    assert message.subject.startswith("Будь ласка, підтвердьте свій запит")
    assert "Посилання діє до" in message.body_text


# -- signed-in users ---------------------------------------------------------------------


def test_signing_in_applies_the_saved_preference_over_the_browser(app, db):
    with preference(db, "north-motors-staff", "uk"):
        browser = signed_in(app, "north-motors-staff", accept_language="de")
        page = browser.get("/carmodelview/list/")
        html = page.get_data(as_text=True)
        assert screen_language(page) == "uk"
        assert "Автомобілі" in html and "Кількість записів" in html


def test_the_saved_preference_beats_a_choice_made_before_signing_in(app, db):
    with preference(db, "north-motors-staff", "uk"):
        client = visitor(app)
        client.post("/lang/de")
        browser = Browser(client, "north-motors-staff")
        assert browser.login().status_code == 302
        assert screen_language(browser.get("/carmodelview/list/")) == "uk"


def test_a_user_without_a_preference_gets_the_browser_language(app, db):
    with preference(db, "north-motors-staff", None):
        browser = signed_in(app, "north-motors-staff", accept_language="de")
        assert screen_language(browser.get("/carmodelview/list/")) == "de"


def test_choosing_a_language_while_signed_in_saves_it_for_the_next_sign_in(app, db):
    with preference(db, "north-motors-staff", "uk") as user_id:
        browser = signed_in(app, "north-motors-staff")
        response = browser.post_form("/lang/de", {}, form_url="/carmodelview/list/")
        assert response.status_code == 302
        assert saved_language(db, user_id) == "de"
        assert screen_language(browser.get("/carmodelview/list/")) == "de"
        # A new browser (fresh session, English Accept-Language) signs in: German.
        again = signed_in(app, "north-motors-staff", accept_language="en")
        assert screen_language(again.get("/carmodelview/list/")) == "de"


def test_the_profile_form_saves_the_language_and_refuses_an_unknown_one(app, db):
    url = "/userinfoeditview/form"
    with preference(db, "north-motors-staff", None) as user_id:
        browser = signed_in(app, "north-motors-staff")
        form = browser.get(url).get_data(as_text=True)
        assert 'name="preferred_language"' in form and "Українська" in form and "Deutsch" in form
        fields = {"first_name": "North", "last_name": "Staff"}
        refused = browser.post_form(url, {**fields, "preferred_language": "xx"})
        assert refused.status_code == 200
        assert saved_language(db, user_id) is None
        saved = browser.post_form(url, {**fields, "preferred_language": "uk"})
        assert saved.status_code == 302
        assert saved_language(db, user_id) == "uk"
        assert screen_language(browser.get("/carmodelview/list/")) == "uk"
        profile = browser.get("/users/userinfo/").get_data(as_text=True)
        assert "Українська" in profile


def test_the_language_of_mails_to_a_user_is_their_preference(app, db):
    with preference(db, "north-motors-admin", "uk") as user_id:
        user = db.session.get(DealerUser, user_id)
        assert user_language(user) == "uk"
        user.preferred_language = None
        assert user_language(user) == "en"


def test_a_notice_for_a_ukrainian_request_is_rendered_in_ukrainian(app, db):
    from app.privacy.requests import intake

    filed = intake.file_request(
        db.session,
        request_type="erasure",
        email=f"uk-{uuid.uuid4().hex[:8]}@example.org",
        channel=RequestChannel.public_form,
        language="uk",
    )
    db.session.commit()
    message = db.session.scalars(select(MailMessage).where(MailMessage.request_id == filed.id)).one()
    assert message.language == "uk"
    assert "видалення ваших даних" in message.body_text
    assert "deleting your data" not in message.body_text


# -- lists, forms and formatting -------------------------------------------------------------


def test_lists_show_translated_enum_values_and_local_money(app, db):
    with preference(db, "north-motors-staff", "de"):
        html = signed_in(app, "north-motors-staff").get("/carmodelview/list/").get_data(as_text=True)
    assert "Verfügbar" in html  # CarStatus.available
    assert re.search(r"\d{1,3}(\.\d{3})*,\d{2}\xa0€", html), "no German-formatted euro amount on the car list"
    assert ">available<" not in html and ">in_preparation<" not in html


def test_forms_offer_translated_enum_labels_but_post_the_stored_value(app, db):
    with preference(db, "north-motors-staff", "uk"):
        html = signed_in(app, "north-motors-staff").get("/carmodelview/add").get_data(as_text=True)
    assert re.search(r'<option[^>]*value="petrol"[^>]*>Бензин</option>', html)
    assert re.search(r'<option[^>]*value="diesel"[^>]*>Дизель</option>', html)


def test_a_validation_error_is_in_the_users_language(app, db):
    with preference(db, "north-motors-staff", "de"):
        browser = signed_in(app, "north-motors-staff")
        response = browser.post_form(
            "/carmodelview/add",
            {"stock_number": "", "vin": "", "year": "2019", "make": "VW", "model": "Golf", "mileage": "1", "currency": "EUR"},
        )
        html = response.get_data(as_text=True)
    assert "Dieses Feld wird benötigt." in html  # WTForms' own German catalogue
    assert "This field is required." not in html
    assert "EUR · Euro" in html and "UAH · Ukrainische Hrywnja" in html  # currency names in German


def test_the_api_stays_machine_readable_whatever_the_language(app, api):
    client = api("north-motors-staff")
    body = client.get("/api/v1/car/", headers={"Accept-Language": "de"}).json
    statuses = {row["status"] for row in body["result"]}
    assert statuses <= {"acquired", "in_preparation", "available", "reserved", "sold", "archived"}
    assert all(isinstance(row["asking_price_minor"], (int, type(None))) for row in body["result"])


def test_api_errors_a_person_caused_are_in_their_language(app, db, api):
    car = {"stock_number": "X1", "vin": "WVW", "make": "VW", "model": "Golf", "year": 2019, "currency": "ZZZ"}
    with preference(db, "north-motors-staff", "uk"):
        response = api("north-motors-staff").post("/api/v1/car/", json=car, headers={"Accept-Language": "de"})
    assert response.status_code == 422
    assert response.json["message"]["currency"] == ["«ZZZ» не є кодом валюти за ISO 4217."]


@contextmanager
def dealer_zone(db, slug: str, zone: str):
    dealer = db.session.scalars(select(Dealer).where(Dealer.slug == slug)).one()
    saved = dealer.timezone
    dealer.timezone = zone
    db.session.commit()
    try:
        yield dealer.id
    finally:
        db.session.rollback()
        dealer = db.session.get(Dealer, dealer.id)
        dealer.timezone = saved
        db.session.commit()


def test_dates_are_shown_in_the_dealers_time_zone(app, db):
    received = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    with dealer_zone(db, "north-motors", "Europe/Kyiv") as dealer_id, preference(db, "north-motors-staff", "de"):
        inquiry = Inquiry(
            dealer_id=dealer_id, name="Zeitzone Test", email="tz@example.org", message="?", status=InquiryStatus.new, received_at=received
        )
        db.session.add(inquiry)
        db.session.commit()
        try:
            html = signed_in(app, "north-motors-staff").get(f"/inquirymodelview/show/{inquiry.id}").get_data(as_text=True)
            assert "05.03.2024, 16:30:00" in html  # Kyiv is UTC+2 in March
            assert "05.03.2024, 14:30:00" not in html
        finally:
            db.session.delete(db.session.get(Inquiry, inquiry.id))
            db.session.commit()


def test_internal_staff_and_visitors_see_the_default_time_zone(app):
    with app.test_request_context(), force_locale("de"):
        assert format_datetime(datetime(2024, 3, 5, 14, 30, tzinfo=UTC)) == "05.03.2024, 14:30:00"
        with force_timezone("Europe/Kyiv"):
            assert format_datetime(datetime(2024, 7, 5, 14, 30, tzinfo=UTC)) == "05.07.2024, 17:30:00"
        assert format_datetime(datetime(2024, 7, 5, 14, 30, tzinfo=UTC)) == "05.07.2024, 14:30:00"


def test_relative_times_and_enum_labels_follow_the_locale(app):
    now = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    from app.models import CarStatus

    with app.test_request_context():
        with force_locale("en"):
            assert format_relative(now - timedelta(days=3), now=now) == "3 days ago"
            assert format_relative(now + timedelta(hours=2), now=now) == "in 2 hours"
            assert enum_label(CarStatus.in_preparation) == "In preparation"
        with force_locale("de"):
            assert format_relative(now - timedelta(days=3), now=now) == "vor 3 Tagen"
            assert enum_label(CarStatus.in_preparation) == "In Aufbereitung"
        with force_locale("uk"):
            assert format_relative(now - timedelta(days=3), now=now) == "3 дні тому"
            assert format_relative(now - timedelta(days=5), now=now) == "5 днів тому"
            assert enum_label(CarStatus.in_preparation) == "Підготовка"


def test_plural_forms_follow_each_language(app):
    from flask_babel import ngettext

    with app.test_request_context():
        with force_locale("uk"):
            assert [ngettext("%(num)d car updated.", "%(num)d cars updated.", n) for n in (1, 3, 5, 21)] == [
                "Оновлено 1 автомобіль.",
                "Оновлено 3 автомобілі.",
                "Оновлено 5 автомобілів.",
                "Оновлено 21 автомобіль.",
            ]
        with force_locale("de"):
            assert ngettext("%(num)d car updated.", "%(num)d cars updated.", 1) == "1 Auto aktualisiert."
            assert ngettext("%(num)d car updated.", "%(num)d cars updated.", 2) == "2 Autos aktualisiert."
