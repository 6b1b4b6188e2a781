"""The data workbench's list export and bulk edit in a real browser (Debian's Chromium
through Playwright): export the filtered, sorted car list to XLSX and read it back with
openpyxl; bulk-reduce prices by 5 % and see the price history on the car's page.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_workbench.py``.
"""

from __future__ import annotations

import uuid
from datetime import date

import openpyxl
import pytest

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import filter_list, login

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

CAR_LIST = "/carmodelview/list/"


def _expect():
    from playwright.sync_api import expect

    return expect


def _dealer_with_cars(app, cars: list[dict]) -> tuple[str, list[int]]:
    """A dealer of this test alone, its admin's user name, and its cars' ids."""
    from app.extensions import db
    from tests.factories import make_car, new_dealer, new_user

    with app.app_context():
        dealer = new_dealer(db)
        user = new_user("DealerAdmin", dealer.slug, language="en")
        ids = [make_car(db, dealer.id, **values).id for values in cars]
        db.session.commit()
        username = user.username
        db.session.remove()
    return username, ids


def _price_history(app, car_id: int) -> list[tuple]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import CarPriceChange

    with app.app_context():
        rows = db.session.scalars(select(CarPriceChange).where(CarPriceChange.car_id == car_id).order_by(CarPriceChange.id))
        history = [(row.old_price_minor, row.new_price_minor) for row in rows]
        db.session.remove()
    return history


def test_export_the_filtered_sorted_car_list_to_xlsx_and_read_it_back(app, page, tmp_path):
    expect = _expect()
    tag = uuid.uuid4().hex[:6].upper()
    username, _ids = _dealer_with_cars(
        app,
        [
            {"stock_number": f"X{tag}-1", "make": "Audi", "model": "A4", "year": 2018, "asking_price_minor": 1_999_950},
            {"stock_number": f"X{tag}-2", "make": "Audi", "model": "A6", "year": 2021, "asking_price_minor": 3_500_000},
            {"stock_number": f"X{tag}-3", "make": "Skoda", "model": "Fabia", "year": 2019},
            {"stock_number": f"X{tag}-4", "make": "Audi", "model": "=1+1", "year": 2015, "acquired_on": date(2026, 3, 4)},
        ],
    )
    login(page, username)
    page.goto(CAR_LIST)
    filter_list(page, "Make", "Audi")
    with page.expect_navigation():
        page.locator("th a", has_text="Year").click()  # sorted by year, ascending
    headings = [text.strip() for text in page.locator("table.table-bordered thead th").all_inner_texts()]
    stock_column = headings.index("Stock no.") + 1
    shown = page.locator(f"table.table-bordered tbody tr td:nth-child({stock_column})").all_inner_texts()
    assert [text.strip() for text in shown] == [f"X{tag}-4", f"X{tag}-1", f"X{tag}-2"]

    page.locator("#export-format").select_option("xlsx")
    page.locator("#export-mode").select_option("human")
    with page.expect_download() as download_info:
        page.locator("#export-list").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    header, *rows = openpyxl.load_workbook(target).active.iter_rows(values_only=True)
    assert header[:5] == ("Stock no.", "VIN", "Year", "Make", "Model")
    assert [row[0] for row in rows] == [f"X{tag}-4", f"X{tag}-1", f"X{tag}-2"]  # as the list shows them
    record = dict(zip(header, rows[1], strict=True))
    assert record["Asking price"] == pytest.approx(19999.50) and record["Currency"] == "EUR"
    assert record["Status"] == "Available"
    assert rows[0][header.index("Model")] == "'=1+1"  # a formula cell neutralised
    assert rows[0][header.index("Acquired")].date() == date(2026, 3, 4)
    expect(page.locator("table.table-bordered")).to_be_visible()
    page.watcher.assert_clean()


def test_bulk_reduce_prices_by_five_percent_and_see_the_price_history(app, page):
    expect = _expect()
    tag = uuid.uuid4().hex[:6].upper()
    username, ids = _dealer_with_cars(
        app,
        [
            {"stock_number": f"B{tag}-1", "asking_price_minor": 1_000_000},
            {"stock_number": f"B{tag}-2", "asking_price_minor": 2_000_000},
        ],
    )
    login(page, username)
    page.goto(CAR_LIST)
    page.locator("input.action_check_all").check()
    page.get_by_role("button", name="Actions").click()
    with page.expect_navigation():
        page.locator("a.bulk_edit_menu_item").click()
    expect(page.get_by_text("2 rows selected.")).to_be_visible()

    page.locator("#bulk-change").select_option("price_percent")
    page.locator("#bulk-amount").fill("-5")
    with page.expect_navigation():
        page.locator("#bulk-preview").click()
    expect(page.locator("#bulk-summary")).to_contain_text("2 rows will change.")
    table = page.locator("#bulk-rows")
    expect(table).to_contain_text("€10,000.00")
    expect(table).to_contain_text("€9,500.00")
    expect(table).to_contain_text("€19,000.00")
    assert _price_history(app, ids[0]) == [(None, 1_000_000)]  # nothing written by the preview

    with page.expect_navigation():
        page.locator("#bulk-apply").click()
    expect(page.locator(".alert-success")).to_contain_text("2 rows changed.")
    assert _price_history(app, ids[0]) == [(None, 1_000_000), (1_000_000, 950_000)]

    page.goto(f"/carmodelview/show/{ids[1]}")
    page.get_by_role("link", name="Price history").click()
    history = page.locator(".tab-pane.active table, .tab-pane.active").first
    expect(history).to_contain_text("€20,000.00")
    expect(history).to_contain_text("€19,000.00")
    page.watcher.assert_clean()
