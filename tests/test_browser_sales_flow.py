"""The sales flow in a real browser (Debian's Chromium through Playwright), in English and
Ukrainian: record a sale from a car's page and land back on the car, which now links to
its sale; turn an inquiry into a client from the inquiry's page, with the menu's badge of
unopened inquiries going away once it is opened.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_sales_flow.py``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.grants import DEALER_ADMIN
from tests.factories import make_car, new_dealer, new_email, new_user, uid

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import choose_select2, login

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-s13-sales")


def _expect():
    from playwright.sync_api import expect

    return expect


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _shop(db, language: str):
    """A dealer of this test, its admin speaking ``language``, an available and a sold car
    and a client; committed."""
    from app.models import CarStatus, Client

    dealer = new_dealer(db)
    user = new_user(DEALER_ADMIN, dealer.slug, language=language)
    car = make_car(db, dealer.id, stock_number=f"S-{uid()}", make="Volkswagen", model="Passat", year=2020)
    sold = make_car(db, dealer.id, stock_number=f"X-{uid()}", status=CarStatus.sold)
    client = Client(dealer_id=dealer.id, first_name="Anna", last_name="Fischer", email=new_email("anna"), city="Berlin", country="DE")
    db.session.add(client)
    db.session.commit()
    return dealer, user.username, car, sold, client


@pytest.mark.parametrize("language", ["en", "uk"])
def test_record_a_sale_from_a_car_page(page, live_server, db, language):
    from app.models import Sale

    expect = _expect()
    _dealer, username, car, sold, client = _shop(db, language)
    login(page, username)
    page.goto(f"/carmodelview/show/{car.id}")
    assert page.locator("html").get_attribute("lang") == language
    expect(page.locator("a.record-edit")).to_be_visible()
    page.locator("a.record-sale").click()
    page.wait_for_url(re.compile(r"/salemodelview/add\?"))

    expect(page.locator("#car")).to_have_value(str(car.id))
    expect(page.locator("#buyer")).to_have_value("")
    offered = page.locator("#car option").evaluate_all("options => options.map(o => o.value)")
    assert str(sold.id) not in offered and "__None" not in offered
    _shot(page, f"sale-form-{language}")

    deal = f"D-{uid()}"
    form = page.locator("form#model_form")
    form.locator("#deal_number").fill(deal)
    choose_select2(page, "buyer", f"Anna Fischer · {client.email} · Berlin")
    form.locator("#sale_date").fill(date.today().isoformat())
    form.locator("#price").fill("18500")
    page.evaluate("() => { const s = document.querySelector('#status'); s.value = 'sold'; s.dispatchEvent(new Event('change')); }")
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()

    assert page.url.endswith(f"/carmodelview/show/{car.id}"), page.url
    sale_link = page.locator("a.car-sale-link")
    expect(sale_link).to_contain_text(deal)
    expect(page.locator("a.record-sale")).to_have_count(0)
    _shot(page, f"car-with-sale-{language}")
    sale_link.click()
    page.wait_for_url(re.compile(r"/salemodelview/show/\d+$"))
    expect(page.locator(f'a[href="/carmodelview/show/{car.id}"]').first).to_be_visible()
    expect(page.locator(f'a[href="/clientmodelview/show/{client.id}"]').first).to_be_visible()
    _shot(page, f"sale-{language}")

    db.session.expire_all()
    stored = db.session.scalars(select(Sale).where(Sale.deal_number == deal)).one()
    assert (stored.car_id, stored.client_id, stored.price_minor, stored.status.value) == (car.id, client.id, 1_850_000, "sold")


@pytest.mark.parametrize("language", ["en", "uk"])
def test_turn_an_inquiry_into_a_client(page, live_server, db, language):
    from app.models import Client, Dealer, Inquiry, InquirySource

    expect = _expect()
    dealer, username, car, _sold, _client = _shop(db, language)
    address = new_email("olha")
    inquiry = Inquiry(
        dealer=db.session.get(Dealer, dealer.id),
        car=car,
        name="Olha Koval",
        email=address,
        message="Is the Passat still there?",
        source=InquirySource.email,
    )
    db.session.add(inquiry)
    db.session.commit()

    login(page, username)
    badge = page.locator(".unseen-inquiries .badge")
    expect(badge).to_have_text("1")
    page.goto(f"/inquirymodelview/show/{inquiry.id}")
    expect(page.locator(".unseen-inquiries")).to_have_count(0)
    _shot(page, f"inquiry-{language}")
    with page.expect_navigation():
        page.locator("button.make-client").click()

    assert re.search(r"/clientmodelview/show/\d+$", page.url), page.url
    expect(page.locator(".alert-success")).to_contain_text("Olha Koval")
    _shot(page, f"client-from-inquiry-{language}")
    db.session.expire_all()
    client = db.session.scalars(select(Client).where(Client.email == address)).one()
    assert (client.first_name, client.last_name, client.dealer_id) == ("Olha", "Koval", dealer.id)
    assert db.session.get(Inquiry, inquiry.id).client_id == client.id

    page.goto(f"/inquirymodelview/show/{inquiry.id}")
    expect(page.locator("button.make-client")).to_have_count(0)
    expect(page.locator(f'a[href="/clientmodelview/show/{client.id}"]').first).to_be_visible()


@pytest.mark.parametrize("language", ["en", "uk"])
def test_a_large_picker_searches_as_you_type(page, live_server, db, language, monkeypatch):
    import app.form_fields

    monkeypatch.setattr(app.form_fields, "PICKER_SEARCH_FROM", 0)  # every picker counts as large
    expect = _expect()
    _dealer, username, _car, _sold, client = _shop(db, language)
    login(page, username)
    page.goto("/salemodelview/add")
    expect(page.locator("#buyer option")).to_have_count(1)  # only the empty choice is in the page
    page.locator("#buyer + .select2-container .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(client.email.split("@")[0])
    option = page.locator(".select2-container--open .select2-results__option", has_text=client.email)
    expect(option).to_have_text(f"Anna Fischer · {client.email} · Berlin")
    _shot(page, f"picker-search-{language}")
    option.click()
    expect(page.locator("#buyer")).to_have_value(str(client.id))
