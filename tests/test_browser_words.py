"""Words people use and every screen size (issue 13 items 4 and 6), in Chromium, in English
and Ukrainian: a saved car is named in the message and the page titles; FAB's security
pages speak Ukrainian; at 375 px the main lists show their key columns (price and status
of a car) without sideways scrolling, with visible focus. Writes the car list's
screenshots at 1280 px and 375 px into docs/.

Run alone: ``.venv/bin/python -m pytest -q tests/test_browser_words.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from app.domain.grants import ADMIN, DEALER_ADMIN
from tests.browser_support import login
from tests.factories import make_car, new_user

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parent.parent / "docs"
CAR_LIST = "/carmodelview/list/"
PHONE = {"width": 375, "height": 812}
WORDS = {
    "en": {"car": "Car", "saved": "saved", "price": "Asking price", "status": "Status", "year": "Year"},
    "uk": {"car": "Автомобіль", "saved": None, "price": "Ціна", "status": "Статус", "year": "Рік"},
}


def _expect():
    from playwright.sync_api import expect

    return expect


def _dealer_admin(db, language: str) -> str:
    user = new_user(DEALER_ADMIN, "north-motors", language=language)
    db.session.commit()
    return user.username


def _fits(page) -> None:
    """Nothing scrolls sideways: neither the page nor the list's own scroller."""
    widths = page.evaluate(
        """() => {
          const box = document.querySelector('.table-responsive');
          return [document.documentElement.scrollWidth, window.innerWidth, box.scrollWidth, box.clientWidth];
        }"""
    )
    page_width, viewport, table_width, box_width = widths
    assert page_width <= viewport, f"the page scrolls sideways: {widths}"
    assert table_width <= box_width, f"the list scrolls sideways: {widths}"


@pytest.mark.parametrize("language", ["en", "uk"])
def test_the_car_list_shows_price_and_status_on_a_375px_screen_without_scrolling_sideways(db, browser, live_server, language):
    from tests.browser_support import PageWatcher

    expect = _expect()
    username = "north-motors-admin" if language == "en" else _dealer_admin(db, language)  # en: the demo user, for docs/
    for width in (1280, PHONE["width"]):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 812}, locale="en-GB")
        page = context.new_page()
        watcher = PageWatcher(origin=live_server.url, app_errors=live_server.app_errors)
        watcher.attach(page)
        try:
            login(page, username)
            page.goto(CAR_LIST)
            headings = page.locator("table.table-bordered thead th")
            words = WORDS[language]
            expect(headings.filter(has_text=words["price"]).first).to_be_visible()
            expect(headings.filter(has_text=words["status"]).first).to_be_visible()
            year = headings.filter(has_text=re.compile("^" + words["year"])).first
            if width == 1280:
                expect(year).to_be_visible()
            else:
                expect(year).to_be_hidden()
                _fits(page)
                # Focus is visible: a keyboard user sees where they are.
                link = page.locator("table.table-bordered thead th a").first
                link.focus()
                outline = link.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
                assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
                for path in ("/clientmodelview/list/", "/inquirymodelview/list/", "/salemodelview/list/"):
                    page.goto(path)
                    _fits(page)
            if language == "en":
                page.goto(CAR_LIST)
                page.screenshot(path=str(DOCS / f"cars-{width}.png"), full_page=width != 1280)
        finally:
            context.close()
        watcher.assert_clean()


@pytest.mark.parametrize("language", ["en", "uk"])
def test_a_car_saved_in_the_browser_is_named_in_the_message_and_the_page_titles(db, page, dealer_ids, language):
    expect = _expect()
    car = make_car(db, dealer_ids["north-motors"], make="Volkswagen", model="Passat", year=2020)
    db.session.commit()
    title = f"Volkswagen Passat 2020 ({car.stock_number})"

    login(page, _dealer_admin(db, language))
    page.goto(f"/carmodelview/show/{car.id}")
    expect(page).to_have_title(re.compile("^" + re.escape(title) + " · "))
    expect(page.locator(".panel-heading").first).to_contain_text(title)

    page.goto(f"/carmodelview/edit/{car.id}")
    expect(page).to_have_title(re.compile(re.escape(title)))
    with page.expect_navigation():
        page.locator("form#model_form button[type=submit]").first.click()
    message = page.locator(".alert-success")
    expect(message).to_contain_text(f"{WORDS[language]['car']} {car.stock_number}")
    if WORDS[language]["saved"]:
        expect(message).to_contain_text(f"Car {car.stock_number} saved")
    expect(page.locator(".alert", has_text="Changed Row")).to_have_count(0)
    page.watcher.assert_clean()


def test_fabs_security_pages_speak_ukrainian(db, page):
    expect = _expect()
    page.goto("/login/?_l_=uk")
    expect(page.get_by_role("button", name="Увійти")).to_be_visible()
    user = new_user(ADMIN, language="uk")
    db.session.commit()
    login(page, user.username)
    pages = {
        "/users/list/": "Користувачі",
        "/roles/list/": "Ролі",
        "/users/userinfo/": "Ваші дані",
        "/resetmypassword/form": "Змінити мій пароль",
    }
    for path, heading in pages.items():
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        expect(page.locator(".panel-heading, .panel-title").first).to_contain_text(heading)
        if path == "/roles/list/":
            continue  # its rows list FAB's permission names ("menu access on List Users"): data, not words
        shown = page.locator("main, #main-content").first.inner_text()  # visible text only
        for english in ("List Users", "List Roles", "User info", "Reset Password", "User Name", "Last login"):
            assert english not in shown, f"{english!r} on the Ukrainian {path}"
    page.goto(f"/users/edit/{user.id}")
    expect(page.locator("form#model_form .help-block").first).to_be_visible()  # the hints are there, in their own words
    for technical in ("LDAP", "OID", "OpenID"):
        expect(page.locator("form#model_form")).not_to_contain_text(technical)
    page.watcher.assert_clean()
