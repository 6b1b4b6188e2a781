"""Find anything fast in a real browser, in English and in Ukrainian: quick-search a car by
part of its VIN, save the view and reopen it from the menu, remove a filter chip.

Selectors are ids and classes, not words, so the walk is the same in every language.
Run alone: ``.venv/bin/python -m pytest -q tests/test_browser_finding.py``.
"""

from __future__ import annotations

import re
import uuid

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import login

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

CAR_LIST = "/carmodelview/list/"


def _expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def dealer_desk(app):
    """A dealer with two cars and a DealerStaff user; (username, wanted car, other car)."""
    from app.domain.grants import DEALER_STAFF
    from app.extensions import db
    from tests.factories import make_car, new_dealer, new_user

    def make(language: str):
        with app.app_context():
            dealer = new_dealer(db)
            tag = uuid.uuid4().hex[:6].upper()
            wanted = make_car(db, dealer.id, stock_number=f"F-{tag}-1")
            other = make_car(db, dealer.id, stock_number=f"F-{tag}-2")
            user = new_user(DEALER_STAFF, dealer.slug, language=language)
            db.session.commit()
            found = (user.username, (wanted.stock_number, wanted.vin), (other.stock_number, other.vin))
            db.session.remove()
            return found

    return make


@pytest.mark.parametrize("language", ["en", "uk"])
def test_quick_search_by_partial_vin_save_the_view_reopen_it_and_remove_a_chip(page, dealer_desk, language):
    expect = _expect()
    username, (wanted, vin), (other, _) = dealer_desk(language)
    login(page, username)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(CAR_LIST)

    # Quick search: part of the VIN, in lower case, from the middle.
    fragment = vin[9:15].lower()
    box = page.locator("#quick-search-CarModelView")
    box.fill(fragment)
    with page.expect_navigation():
        box.press("Enter")
    expect(page.locator("table.table-bordered")).to_contain_text(wanted)
    expect(page.locator("table.table-bordered")).not_to_contain_text(other)
    chip = page.locator(".forecourt-chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(fragment)

    # Save this view, then reopen it from the menu's Saved views page.
    name = f"VIN {fragment}"
    page.locator(".forecourt-save-view summary").click()
    page.locator("#save-view-name-CarModelView").fill(name)
    with page.expect_navigation():
        page.locator(".forecourt-save-view button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(name)
    page.goto(CAR_LIST)
    expect(page.locator("table.table-bordered")).to_contain_text(other)  # the plain list again
    with page.expect_navigation():
        page.locator('a[href="/savedviews/list/"]').first.click()
    expect(page.locator("#saved-views")).to_contain_text(name)
    with page.expect_navigation():
        page.locator("#saved-views a", has_text=name).click()
    assert re.search(r"/carmodelview/list/\?q=", page.url), page.url
    expect(page.locator("#quick-search-CarModelView")).to_have_value(fragment)
    expect(page.locator("table.table-bordered")).to_contain_text(wanted)
    expect(page.locator("table.table-bordered")).not_to_contain_text(other)

    # Remove the chip: the search is gone, every car is back.
    with page.expect_navigation():
        page.locator(".forecourt-chip-remove").click()
    expect(page.locator(".forecourt-chip")).to_have_count(0)
    expect(page.locator("#quick-search-CarModelView")).to_have_value("")
    expect(page.locator("table.table-bordered")).to_contain_text(other)
    expect(page.locator("table.table-bordered")).to_contain_text(wanted)
