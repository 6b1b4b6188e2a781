"""Import with preview in a real browser (Chromium through Playwright): a 20-row CSV with
3 bad rows (another dealer's VIN, a formula cell, an amount written for another
language) is previewed with every error, nothing is saved; the corrected file is
previewed, confirmed, applied by the job with a progress bar, and the cars are listed."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import func, select

from app.domain.vin import build_vin

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import filter_list, login
from tests.queue_support import run_queue

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

HEADERS = ["Stock no.", "VIN", "Make", "Model", "Year", "Mileage", "Asking price"]


def _expect():
    from playwright.sync_api import expect

    return expect


def _south_cars_vin(app) -> str:
    from app.extensions import db
    from app.models import Car, CarStatus, Dealer

    with app.app_context():
        vin = db.session.scalar(
            select(Car.vin)
            .join(Dealer, Car.dealer_id == Dealer.id)
            .where(Dealer.slug == "south-cars", Car.status.not_in([CarStatus.sold, CarStatus.archived]), Car.restricted_at.is_(None))
            .limit(1)
        )
        db.session.remove()
        return vin


def _cars_with_prefix(app, prefix: str) -> int:
    from app.extensions import db
    from app.models import Car

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Car).where(Car.stock_number.like(f"{prefix}-%")))
        db.session.remove()
        return count


def _csv(rows: list[list[str]]) -> bytes:
    from app.workbench.spreadsheets import csv_bytes

    return csv_bytes(HEADERS, rows)


def _upload(page, kind: str, name: str, data: bytes, language: str) -> None:
    page.goto(f"/import/{kind}/")
    page.locator("#file").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    page.locator("#language").select_option(language)
    with page.expect_navigation():
        page.locator("button.import-upload-button").click()


def test_import_a_20_row_csv_with_3_bad_rows_preview_fix_apply_and_see_the_cars(app, page):
    expect = _expect()
    prefix = f"BI{uuid.uuid4().hex[:6].upper()}"
    first = random.randrange(1, 900_000)
    good = [
        [f"{prefix}-{i:02d}", build_vin("WVW", "ZZZAU", 2019, "W", first + i), "Volkswagen", "Golf", "2019", "45,000", "12,500.00"]
        for i in range(20)
    ]
    bad = [row[:] for row in good]
    bad[2][1] = _south_cars_vin(app)  # row 4: a car in another dealer's stock
    bad[7][5] = '=HYPERLINK("http://evil.example","click me")'  # row 9: a formula cell
    bad[12][6] = "12.500,00"  # row 14: a German amount in an English file

    login(page, "north-motors-admin")
    page.goto("/")
    page.locator("a.dropdown-toggle", has_text="Inventory").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Import cars").click()
    _upload(page, "car", "stock.csv", _csv(bad), "en")

    expect(page.locator(".import-count-create")).to_have_text("17")
    expect(page.locator(".import-count-errors")).to_have_text("3")
    errors = page.locator("tr.import-row-error .import-error")
    expect(errors).to_have_count(3)
    expect(page.locator('tr[data-row="4"] .import-error')).to_contain_text("This VIN is in another dealer's stock on Forecourt")
    expect(page.locator('tr[data-row="9"] .import-error')).to_contain_text("is a formula; formulas are not imported.")
    expect(page.locator('tr[data-row="14"] .import-error')).to_have_text("row 14, Asking price: '12.500,00' is not an amount in en.")
    expect(page.locator("button.import-apply")).to_have_count(0)
    assert _cars_with_prefix(app, prefix) == 0  # nothing is written before confirm

    with page.expect_navigation():
        page.locator("a.import-upload-again").click()
    _upload(page, "car", "stock-fixed.csv", _csv(good), "en")
    expect(page.locator(".import-count-create")).to_have_text("20")
    expect(page.locator(".import-count-errors")).to_have_text("0")
    with page.expect_navigation():
        page.locator("button.import-apply").click()
    expect(page.locator(".import-progress .progress")).to_be_visible()
    assert _cars_with_prefix(app, prefix) == 0

    run_queue(app)  # the worker; the page polls and reloads itself when the job is done
    expect(page.locator(".import-applied")).to_contain_text("Imported: 20 new, 0 updated.", timeout=15_000)
    with page.expect_navigation():
        page.locator(".import-applied a").click()
    filter_list(page, "Stock no.", prefix)
    rows = page.locator("table.table-bordered tr", has=page.get_by_role("cell", name=f"{prefix}-07", exact=True))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("12,500.00")
    assert _cars_with_prefix(app, prefix) == 20
    page.watcher.assert_clean()
