"""A record's History tab in a real browser (Debian's Chromium through Playwright),
issue 12 item 5: a dealer admin edits a car through the form, opens the car's page, clicks
History and sees who changed which field from what to what, when — in English, and in
Ukrainian for a user who prefers it.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_history.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import login

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("FORECOURT_SHOTS_DIR", "/tmp/shots-s12-history"))


def _expect():
    from playwright.sync_api import expect

    return expect


def _new_car(app, slug: str) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dealer
    from tests.factories import make_car

    with app.app_context():
        dealer_id = db.session.scalar(select(Dealer.id).where(Dealer.slug == slug))
        car = make_car(db, dealer_id, asking_price_minor=1_500_000, exterior_colour="Blue")
        db.session.commit()
        pk = car.id
        db.session.remove()
        return pk


def _new_user(app, language: str) -> str:
    from app.extensions import db
    from tests.factories import new_user

    with app.app_context():
        user = new_user("DealerAdmin", "north-motors", language=language)
        username = user.username
        db.session.commit()
        db.session.remove()
        return username


def _edit_car(page, pk: int, price: str, colour: str) -> None:
    page.goto(f"/carmodelview/edit/{pk}")
    form = page.locator("form#model_form")
    form.locator("#asking_price").fill(price)
    form.locator("#exterior_colour").fill(colour)
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()


def _open_history(page, pk: int):
    expect = _expect()
    page.goto(f"/carmodelview/show/{pk}")
    tab = page.locator('a[href="#History"]')
    tab.click()
    history = page.locator("#History table.change-history")
    expect(history).to_be_visible()
    return history


def test_a_dealer_opens_a_car_s_history_tab_and_sees_who_changed_what_from_what_to_what(app, page):
    expect = _expect()
    pk = _new_car(app, "north-motors")
    login(page, "north-motors-admin")
    _edit_car(page, pk, "14250.00", "Dark green")
    history = _open_history(page, pk)
    price = history.locator('tr[data-field="asking_price_minor"]')
    expect(price).to_have_count(1)
    expect(price.locator("td.field")).to_have_text("Asking price")
    expect(price.locator("td.old")).to_have_text(re.compile(r"15,000\.00"))
    expect(price.locator("td.new")).to_have_text(re.compile(r"14,250\.00"))
    expect(price.locator("td.who")).to_have_text("North DealerAdmin")
    expect(price.locator("td.when time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    colour = history.locator('tr[data-field="exterior_colour"]')
    expect(colour.locator("td.old")).to_have_text("Blue")
    expect(colour.locator("td.new")).to_have_text("Dark green")
    expect(history.locator("tr.change-insert td.who")).to_have_text("System")  # made by a job, not a person
    expect(history.locator('tr[data-field="interior_colour"]')).to_have_count(0)  # empty before and after
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "history-en.png"), full_page=True)


def test_the_history_tab_speaks_the_user_s_language(app, page):
    expect = _expect()
    pk = _new_car(app, "north-motors")
    username = _new_user(app, "uk")
    login(page, username)
    _edit_car(page, pk, "14250.00", "Синій")
    history = _open_history(page, pk)
    price = history.locator('tr[data-field="asking_price_minor"]')
    expect(price.locator("td.new")).to_have_text(re.compile(r"14\u00a0250,00"))
    expect(price.locator("td.field")).not_to_have_text("Asking price")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "history-uk.png"), full_page=True)


def test_another_dealer_cannot_open_the_car_nor_its_history(app, page):
    pk = _new_car(app, "north-motors")
    login(page, "south-cars-admin")
    page.watcher.allow_status(f"/carmodelview/show/{pk}", 404)
    answer = page.goto(f"/carmodelview/show/{pk}")
    assert answer is not None and answer.status == 404
    assert page.locator("#History").count() == 0
