"""Real-browser tests: Debian's Chromium, driven by Playwright, against the live app.

Harness (live server, browser, watched pages): ``tests/browser_support.py``.
Run alone: ``.venv/bin/python -m pytest -q tests/test_browser.py``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.vin import build_vin

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import choose_select2, filter_list, login, logout
from tests.queue_support import run_queue

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "car-list.png"
CAR_LIST = "/carmodelview/list/"
SHOW_RE = re.compile(r"/carmodelview/show/(\d+)$")


def _expect():
    from playwright.sync_api import expect

    return expect


def _unique_stock_number() -> str:
    return f"BT-{uuid.uuid4().hex[:8].upper()}"


def _cars_matching(app, **criteria) -> int:
    from app.extensions import db
    from app.models import Car

    with app.app_context():
        query = select(func.count()).select_from(Car)
        for name, value in criteria.items():
            query = query.where(getattr(Car, name) == value)
        count = db.session.scalar(query)
        db.session.remove()
        return count


def _open_add_form(page):
    expect = _expect()
    page.goto(CAR_LIST)
    page.locator('a[href="/carmodelview/add"]').first.click()
    page.wait_for_url("**/carmodelview/add")
    expect(page.locator("form#model_form")).to_be_visible()
    # The tenant is the user's only dealer, pre-selected; currency defaults to EUR.
    expect(page.locator("#dealer")).to_have_value(re.compile(r"^\d+$"))
    expect(page.locator("#currency")).to_have_value("EUR")


def _fill_car(page, *, stock_number: str, vin: str) -> None:
    form = page.locator("form#model_form")
    form.locator("#stock_number").fill(stock_number)
    form.locator("#vin").fill(vin)
    form.locator("#year").fill("2019")
    form.locator("#make").fill("Volkswagen")
    form.locator("#model").fill("Golf")
    choose_select2(page, "fuel", "Diesel")  # the label; the stored value stays "diesel"
    form.locator("#mileage").fill("48210")
    form.locator("#asking_price").fill("15990.00")


def _save(page) -> None:
    form = page.locator("form#model_form")
    # A form the browser itself refuses (HTML5 constraints) never reaches the server:
    # say which fields block it rather than time out waiting for a navigation.
    blocked = form.evaluate(
        """f => f.checkValidity() ? [] : Array.from(f.elements)
               .filter(e => e.willValidate && !e.checkValidity())
               .map(e => `${e.name}: ${e.validationMessage}`)"""
    )
    assert not blocked, f"the browser refuses to submit the car form: {blocked}"
    with page.expect_navigation():
        form.get_by_role("button", name="Save").click()


def _list_row(page, stock_number: str):
    return page.locator("table.table-bordered tr", has=page.get_by_role("cell", name=stock_number, exact=True))


def test_car_list_screenshot(page):
    expect = _expect()
    login(page, "north-motors-admin")
    page.goto(CAR_LIST)
    expect(page.locator("table.table-bordered tr").nth(1)).to_be_visible()
    expect(page.get_by_text("Record Count")).to_be_visible()
    # The assets really applied: Bootstrap's navbar and Font Awesome's icon font.
    navbar_height = page.locator(".navbar").first.evaluate("el => getComputedStyle(el).minHeight")
    assert navbar_height == "50px", f"Bootstrap's CSS is not applied (navbar min-height {navbar_height})"
    page.evaluate("document.fonts.ready")
    icon_font = page.locator("i.fa").first.evaluate("el => getComputedStyle(el, '::before').fontFamily")
    assert "Font Awesome" in icon_font, icon_font
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    page.watcher.assert_clean()


def test_car_added_by_one_dealer_is_invisible_to_another(app, page):
    expect = _expect()
    stock_number = _unique_stock_number()
    vin = build_vin("WVW", "ZZZAU", 2019, "W", secrets.randbelow(1_000_000))

    # North Motors staff adds a car through the form.
    login(page, "north-motors-staff")
    _open_add_form(page)
    _fill_car(page, stock_number=stock_number, vin=vin)
    _save(page)
    expect(page.locator(".alert-danger")).to_have_count(0)
    expect(page.locator(".alert-success")).to_contain_text(f"Car {stock_number} added")

    # ... and finds it in the car list.
    page.goto(CAR_LIST)
    filter_list(page, "Stock no.", stock_number)
    row = _list_row(page, stock_number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Volkswagen")
    expect(row).to_contain_text("Golf")
    href = row.locator('a[href^="/carmodelview/show/"]').first.get_attribute("href")
    match = SHOW_RE.search(href or "")
    assert match, f"no show link in the new car's row: {href!r}"
    car_id = int(match.group(1))
    assert _cars_matching(app, id=car_id, stock_number=stock_number, vin=vin) == 1

    logout(page)

    # South Cars staff: the list, searched for that stock number, has nothing.
    login(page, "south-cars-staff")
    page.goto(CAR_LIST)
    expect(page.locator("table.table-bordered")).to_be_visible()
    expect(page.get_by_text(stock_number)).to_have_count(0)
    filter_list(page, "Stock no.", stock_number)
    expect(page.get_by_text("No records found")).to_be_visible()
    # The stock number stands in the filter's chip only, never in a row or a link to the car.
    expect(page.locator("table").get_by_text(stock_number)).to_have_count(0)
    expect(page.locator(f'a[href*="/carmodelview/show/{car_id}"]')).to_have_count(0)

    # ... and the car's own page is a 404, not a 403 and not the car.
    show_path = f"/carmodelview/show/{car_id}"
    page.watcher.allow_status(show_path, 404)
    response = page.goto(show_path)
    assert response is not None and response.status == 404, f"{show_path} answered {response and response.status}"
    expect(page.locator("h2")).to_contain_text("404")
    expect(page.get_by_text(stock_number)).to_have_count(0)
    expect(page.get_by_text(vin)).to_have_count(0)

    page.watcher.assert_clean()


def test_invalid_vin_is_refused_with_a_clear_error(app, page):
    expect = _expect()
    stock_number = _unique_stock_number()
    bad_vin = "INVALIDVIN123"

    login(page, "north-motors-staff")
    _open_add_form(page)
    _fill_car(page, stock_number=stock_number, vin=bad_vin)
    _save(page)

    # A flash message or the VIN field's own error: both are Bootstrap danger alerts.
    expect(page.locator(".alert-danger", has_text="A VIN has 17 characters")).to_be_visible()
    expect(page.locator(".alert-success")).to_have_count(0)
    assert _cars_matching(app, stock_number=stock_number) == 0
    assert _cars_matching(app, vin=bad_vin) == 0

    # The error belongs on the form, with what was typed kept for correction.
    if not page.url.endswith("/carmodelview/add"):
        pytest.fail(
            f"after the refused save the browser is on {page.url}, not on the add form: "
            "the VIN error is only a flash message there and everything typed is lost",
            pytrace=False,
        )
    expect(page.locator("form#model_form #vin")).to_have_value(bad_vin)
    expect(page.locator("form#model_form #stock_number")).to_have_value(stock_number)

    page.watcher.assert_clean()


def test_privacy_request_from_public_form_to_downloaded_zip(app, page, dealer_ids, tmp_path):
    """A person files an access request, confirms it by the e-mailed link, the privacy
    officer processes it, the job runs on the real queue, and the officer downloads the ZIP."""
    import json
    import zipfile
    from urllib.parse import urlsplit

    from app.extensions import db
    from app.models import Client, MailMessage, PrivacyRequest, RequestStatus

    expect = _expect()
    address = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        db.session.add(Client(dealer_id=dealer_ids["north-motors"], first_name="Bruna", last_name="Browser", email=address))
        db.session.commit()
        db.session.remove()

    page.goto("/privacy/request")
    page.locator('input[name="request_type"][value="access"]').check()
    page.locator("#email").fill(address)
    page.locator("#name").fill("Bruna Browser")
    page.locator("#dealer").select_option(str(dealer_ids["north-motors"]))
    with page.expect_navigation():
        page.get_by_role("button", name="Send my request").click()
    reference = page.locator(".reference").inner_text().strip()
    assert reference.startswith("PR-")

    with app.app_context():
        request = db.session.scalars(select(PrivacyRequest).where(PrivacyRequest.reference == reference)).one()
        assert request.status is RequestStatus.awaiting_verification
        mail = db.session.scalars(select(MailMessage).where(MailMessage.request_id == request.id, MailMessage.kind == "verification")).one()
        link = re.search(r"https?://\S+/privacy/request/verify/\S+", mail.body_text).group(0)
        db.session.remove()
    page.goto(urlsplit(link).path)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm my request").click()

    login(page, "privacy")
    page.goto(f"/privacyrequestview/list/?_flt_0_reference={reference}")
    row = page.locator("table tr", has_text=reference)
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.locator('a[href*="/privacyrequestview/show/"]').first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Process").click()

    with app.app_context():
        run_queue(app)
        assert db.session.get(PrivacyRequest, request.id).status is RequestStatus.completed
        db.session.remove()

    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download export").click()
    target = tmp_path / "export.zip"
    download_info.value.save_as(target)
    with zipfile.ZipFile(target) as package:
        manifest = json.loads(package.read("manifest.json"))
        clients = json.loads(package.read("clients.json"))
    assert manifest["request"]["reference"] == reference
    assert [c["email"] for c in clients] == [address]
    page.reload()
    expect(page.locator("body")).to_contain_text(re.compile("downloaded", re.IGNORECASE))
