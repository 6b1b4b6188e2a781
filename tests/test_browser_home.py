"""The home page in a real browser (issue 13 item 2): a dealer user clicks an aging bucket
and lands on the car list filtered to exactly the cars it counted, in English and in
Ukrainian; the page passes axe-core (no serious or critical violation) at 1280 and 375 px.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_home.py``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from app.models import CarStatus
from tests.browser_support import axe_violations, login
from tests.factories import make_car, new_dealer, new_user

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

STOCK_NUMBER = re.compile(r"T-[0-9a-f]{10}")


def _expect():
    from playwright.sync_api import expect

    return expect


def _dealer_with_aged_stock(app, language: str) -> tuple[str, dict[int, str]]:
    """A new dealer and user; one car per aging bucket (5, 45, 75, 120 days), a second car
    of 45 days, and a sold car of 45 days that no bucket counts."""
    from app.extensions import db

    with app.app_context():
        dealer = new_dealer(db)
        user = new_user("DealerStaff", dealer.slug, language=language)
        today = date.today()
        cars = {age: make_car(db, dealer.id, acquired_on=today - timedelta(days=age)).stock_number for age in (5, 45, 75, 120)}
        cars[46] = make_car(db, dealer.id, acquired_on=today - timedelta(days=46), status=CarStatus.reserved).stock_number
        make_car(db, dealer.id, acquired_on=today - timedelta(days=45), status=CarStatus.sold)
        db.session.commit()
        username = user.username
        db.session.remove()
    return username, cars


@pytest.mark.parametrize(("language", "bucket_caption", "list_title"), [("en", "31–60 days", "Cars"), ("uk", "31–60", "Автомобілі")])
def test_clicking_an_aging_bucket_opens_the_car_list_with_exactly_those_cars(app, page, language, bucket_caption, list_title):
    expect = _expect()
    username, cars = _dealer_with_aged_stock(app, language)
    login(page, username)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", language)

    bucket = page.locator('[data-figure="aging-1"]')
    expect(bucket).to_contain_text(bucket_caption)
    expect(bucket.locator(".home-tile-count")).to_have_text("2")
    with page.expect_navigation():
        bucket.click()

    assert page.url.split("?")[0].endswith("/carmodelview/list/")
    rows = page.locator("table tbody tr", has_text=STOCK_NUMBER)
    expect(rows).to_have_count(2)
    listed = set(rows.all_inner_texts())
    assert any(cars[45] in text for text in listed) and any(cars[46] in text for text in listed)
    for age in (5, 75, 120):
        expect(page.locator("body")).not_to_contain_text(cars[age])
    assert list_title in page.title()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_dealer_home_page_passes_axe_at_desktop_and_phone_width(app, page, width):
    username, _cars = _dealer_with_aged_stock(app, "en")
    page.set_viewport_size({"width": width, "height": 900})
    login(page, username)
    page.goto("/")
    _expect()(page.locator("#chart-sales-table")).to_be_visible()
    assert axe_violations(page) == []
    # Nothing wider than the screen: the charts scale down with it.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("username", ["privacy", "staff"])
def test_the_internal_home_pages_pass_axe(page, username):
    login(page, username)
    page.goto("/")
    assert axe_violations(page) == []
