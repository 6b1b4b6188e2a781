"""Languages in a real browser (Debian's Chromium through Playwright), issue 5.

A dealer user whose saved preference is Ukrainian signs in and sees the menu, the list
headings, a validation error and money in Ukrainian; switches to German in the navbar and
sees German; and, with the browser's cookies gone, the next sign-in is German again.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_language.py``.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import login, logout

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

USERNAME = "north-motors-staff"
CAR_LIST = "/carmodelview/list/"
NBSP = "\u00a0"
# 55 500,00 EUR: digits grouped by no-break spaces, a decimal comma, the code after.
UKRAINIAN_MONEY = re.compile(rf"^\d{{1,3}}({NBSP}\d{{3}})*,\d{{2}}{NBSP}(EUR|€|₴|UAH)$")


def _expect():
    from playwright.sync_api import expect

    return expect


def _set_preference(app, language: str | None) -> str | None:
    """Save ``language`` as the demo user's preference; the previous one."""
    from app.extensions import db
    from app.models.users import DealerUser

    with app.app_context():
        user = db.session.scalars(select(DealerUser).where(DealerUser.username == USERNAME)).one()
        previous = user.preferred_language
        user.preferred_language = language
        db.session.commit()
        db.session.remove()
        return previous


def _preference(app) -> str | None:
    from app.extensions import db
    from app.models.users import DealerUser

    with app.app_context():
        value = db.session.scalars(select(DealerUser.preferred_language).where(DealerUser.username == USERNAME)).one()
        db.session.remove()
        return value


@pytest.fixture
def ukrainian_user(app):
    """The demo user prefers Ukrainian during the test; their old preference comes back."""
    previous = _set_preference(app, "uk")
    try:
        yield USERNAME
    finally:
        _set_preference(app, previous)


def _menu(page):
    return page.locator(".navbar-nav").first


def test_a_ukrainian_user_works_in_ukrainian_switches_to_german_and_keeps_it(app, page, ukrainian_user):
    expect = _expect()

    # Signing in (on the English login page) applies the saved preference.
    login(page, ukrainian_user)
    page.goto(CAR_LIST)
    menu = _menu(page)
    expect(menu).to_contain_text("Склад")  # Inventory
    expect(menu).to_contain_text("Робота з клієнтами")  # Customers
    expect(page.locator("button[data-logout]")).to_contain_text("Вийти")  # Logout, in the user menu

    # The list's headings and its money, the Ukrainian way.
    headings = page.locator("table.table-bordered th")
    for heading in ("Складський №", "Марка", "Модель", "Статус", "Ціна"):
        expect(headings.filter(has_text=heading).first).to_be_visible()
    expect(page.get_by_text("Кількість записів")).to_be_visible()
    price_column = page.locator("table.table-bordered tr").first.locator("th").all_inner_texts().index("Ціна")
    prices = [
        text.strip() for text in page.locator(f"table.table-bordered tr td:nth-child({price_column + 1})").all_inner_texts() if text.strip()
    ]
    assert prices and all(UKRAINIAN_MONEY.match(p) for p in prices), f"prices not in Ukrainian format: {prices[:5]}"
    expect(page.locator("table.table-bordered")).to_contain_text("У продажу")  # CarStatus.available

    # A validation error, in Ukrainian, on the form.
    page.goto("/carmodelview/add")
    form = page.locator("form#model_form")
    form.locator("#stock_number").fill(f"BL-{uuid.uuid4().hex[:8].upper()}")
    form.locator("#vin").fill("INVALIDVIN123")
    form.locator("#year").fill("2019")
    form.locator("#make").fill("Volkswagen")
    form.locator("#model").fill("Golf")
    form.locator("#mileage").fill("48210")
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator(".alert-danger, .help-block", has_text="VIN-код має 17 символів").first).to_be_visible()

    # The navbar's switcher: German, saved for the user.
    page.goto(CAR_LIST)
    page.locator("a.dropdown-toggle", has=page.locator(".f16")).click()
    with page.expect_navigation():
        page.locator(".dropdown-menu button", has_text="Deutsch").click()
    page.goto(CAR_LIST)
    expect(_menu(page)).to_contain_text("Bestand")
    expect(page.locator("table.table-bordered th").filter(has_text="Marke").first).to_be_visible()
    expect(page.get_by_text("Anzahl Datensätze")).to_be_visible()
    assert _preference(app) == "de"

    # Signed out, cookies gone (a new browser): the English login page, then German again.
    logout(page)
    page.context.clear_cookies()
    login(page, ukrainian_user)
    page.goto(CAR_LIST)
    expect(_menu(page)).to_contain_text("Bestand")
    expect(page.locator("button[data-logout]")).to_contain_text("Abmelden")

    page.watcher.assert_clean()
