"""Real-browser tests of car photos and the public listing (Debian's Chromium through
Playwright): upload three photos on the car's page and see them in the gallery and the car
list; bad files get a clear error and change nothing; the public listing's JSON-LD is valid
schema.org and the page sets no cookie.

Run alone: ``.venv/bin/python -m pytest -q tests/test_browser_photos.py``.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import login
from tests.factories import make_car, uid
from tests.photo_support import image_bytes, jpeg_with_gps, png_50_megapixels, renamed_exe

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")
PRICE = re.compile(r"^\d+(\.\d+)?$")


def _expect():
    from playwright.sync_api import expect

    return expect


def _new_car(app, dealer_ids, **values) -> tuple[int, str]:
    from app.extensions import db

    with app.app_context():
        car = make_car(db, dealer_ids["north-motors"], stock_number=f"PH-{uid()[:8]}", **values)
        db.session.commit()
        result = car.id, car.stock_number
        db.session.remove()
        return result


def _files(*named: tuple[str, str, bytes]) -> list[dict]:
    return [{"name": name, "mimeType": mime, "buffer": data} for name, mime, data in named]


def _photo_ids(page) -> list[str]:
    return page.locator("#car-photos-gallery .car-photo").evaluate_all("els => els.map(e => e.dataset.photoId)")


def test_a_dealer_uploads_three_photos_and_sees_them_in_the_gallery_and_the_car_list(app, page, dealer_ids):
    expect = _expect()
    car_id, stock = _new_car(app, dealer_ids)
    login(page, "north-motors-staff")
    page.goto(f"/carmodelview/show/{car_id}")
    expect(page.locator("#car-photos-gallery .car-photos-empty")).to_be_visible()
    page.set_input_files(
        "#car-photos-input",
        files=_files(
            ("front.jpg", "image/jpeg", jpeg_with_gps(colour=(200, 0, 0))),
            ("side.png", "image/png", image_bytes("PNG")),
            ("rear.webp", "image/webp", image_bytes("WEBP")),
        ),
    )
    cards = page.locator("#car-photos-gallery .car-photo")
    expect(cards).to_have_count(3)
    for index in range(3):  # every thumbnail really loads
        expect(cards.nth(index).locator("img")).to_have_js_property("complete", True)
        assert cards.nth(index).locator("img").evaluate("img => img.naturalWidth") > 0
    expect(cards.first.locator(".car-photo-badge")).to_have_text("Main photo")
    first, second, third = _photo_ids(page)

    # Make the third the main photo, caption it, move it first with the arrow, drag the last first.
    cards.nth(2).get_by_role("button", name="Make main photo").click()
    expect(cards.nth(2).locator(".car-photo-badge")).to_be_visible()
    cards.nth(2).locator(".car-photo-caption").fill("Rear view")
    cards.nth(2).get_by_role("button", name="Save caption").click()
    expect(page.locator("#car-photos-status")).to_have_text("Saved.")
    cards.nth(2).get_by_role("button", name="Move earlier").click()
    expect(cards.nth(1)).to_have_attribute("data-photo-id", third)
    cards.nth(2).drag_to(cards.nth(0))
    expect(cards.nth(0)).to_have_attribute("data-photo-id", second)
    assert _photo_ids(page) == [second, first, third]

    page.once("dialog", lambda dialog: dialog.accept())
    cards.nth(1).get_by_role("button", name="Delete").click()
    expect(cards).to_have_count(2)
    page.reload()
    expect(cards).to_have_count(2)
    assert _photo_ids(page) == [second, third]
    expect(page.locator(f'#car-photos-gallery .car-photo[data-photo-id="{third}"] .car-photo-caption')).to_have_value("Rear view")

    page.goto(f"/carmodelview/list/?_flt_0_stock_number={stock}")
    thumb = page.locator("img.car-list-thumb")
    expect(thumb).to_have_count(1)
    assert f"/car-photos/{car_id}/{third}/thumb.jpg" in thumb.get_attribute("src")  # the main photo
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0


def test_a_renamed_program_and_a_50_megapixel_png_get_a_clear_error_and_change_nothing(app, page, dealer_ids):
    expect = _expect()
    car_id, _ = _new_car(app, dealer_ids)
    page.watcher.allow_status(f"/car-photos/{car_id}/", 422)
    login(page, "north-motors-staff")
    page.goto(f"/carmodelview/show/{car_id}")
    expect(page.locator("#car-photos-gallery .car-photos-empty")).to_be_visible()
    page.set_input_files(
        "#car-photos-input",
        files=_files(
            ("setup.jpg", "image/jpeg", renamed_exe()),
            ("huge.png", "image/png", png_50_megapixels()),
            ("fine.jpg", "image/jpeg", jpeg_with_gps()),
        ),
    )
    errors = page.locator("#car-photos-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_have_text("setup.jpg is not a JPEG, PNG or WebP image.")
    expect(errors.nth(1)).to_have_text("huge.png has 50 megapixels; at most 40 are accepted.")
    page.reload()
    expect(page.locator("#car-photos-gallery .car-photos-empty")).to_be_visible()
    expect(page.locator("#car-photos-gallery .car-photo")).to_have_count(0)


def _json_ld(page) -> dict:
    blocks = page.locator('script[type="application/ld+json"]').all_text_contents()
    assert len(blocks) == 1
    return json.loads(blocks[0])


def _check_car(car: dict, origin: str) -> None:
    """The properties schema.org's Car and Offer need for a listing, with valid values."""
    assert car["@type"] == "Car"
    assert car["name"] and car["brand"]["@type"] == "Brand" and car["brand"]["name"] and car["model"]
    assert re.fullmatch(r"\d{4}", car["vehicleModelDate"])
    assert car["itemCondition"] in ("https://schema.org/NewCondition", "https://schema.org/UsedCondition")
    assert car["mileageFromOdometer"]["@type"] == "QuantitativeValue" and car["mileageFromOdometer"]["unitCode"] in ("KMT", "SMI")
    assert car["url"].startswith(origin + "/d/north-motors/cars/")
    offer = car["offers"]
    assert offer["@type"] == "Offer" and PRICE.match(offer["price"]) and ISO_CURRENCY.match(offer["priceCurrency"])
    assert offer["availability"].startswith("https://schema.org/")
    assert offer["seller"]["@type"] == "AutoDealer"
    for image in car.get("image", []):
        assert image.startswith(origin + "/d/north-motors/photos/")


def test_the_public_listing_carries_valid_json_ld_and_no_cookie(app, page, dealer_ids, live_server):
    expect = _expect()
    car_id, _ = _new_car(app, dealer_ids, published=True, model=f"Listed {uid()[:6]}", asking_price_minor=1_234_500)
    hidden_id, _ = _new_car(app, dealer_ids, published=False, model=f"Hidden {uid()[:6]}")
    from app.extensions import db
    from app.models import Car
    from app.workbench import photos as service

    with app.test_request_context():
        service.add_photos(db.session, db.session.get(Car, car_id), [service.Upload("a.jpg", jpeg_with_gps())])
        db.session.commit()
        db.session.remove()

    page.goto("/d/north-motors/cars")
    data = _json_ld(page)
    assert data["@context"] == "https://schema.org" and data["@type"] == "ItemList"
    assert data["numberOfItems"] == len(data["itemListElement"])
    items = {item["item"]["url"]: item["item"] for item in data["itemListElement"]}
    assert [item["position"] for item in data["itemListElement"]] == list(range(1, len(items) + 1))
    for item in items.values():
        _check_car(item, live_server.url)
    mine = items[f"{live_server.url}/d/north-motors/cars/{car_id}"]
    assert mine["offers"]["price"] == "12345.00" and len(mine["image"]) == 1
    assert f"{live_server.url}/d/north-motors/cars/{hidden_id}" not in items

    card = page.locator(f'.listing-card[data-car-id="{car_id}"]')
    expect(card.locator("img")).to_have_js_property("complete", True)
    assert card.locator("img").evaluate("img => img.naturalWidth") > 0
    card.locator("a").first.click()
    page.wait_for_url(f"**/d/north-motors/cars/{car_id}")
    car = _json_ld(page)
    assert car["@context"] == "https://schema.org"
    _check_car(car, live_server.url)
    page.get_by_role("link", name="Ask about this car").click()
    page.wait_for_url(f"**/d/north-motors/inquiry?car={car_id}")
    expect(page.locator(f'.inquiry-car[data-car-id="{car_id}"]')).to_be_visible()
    assert urlsplit(page.url).path == "/d/north-motors/inquiry"


def test_the_listing_pages_set_no_cookie(page):
    page.goto("/d/north-motors/cars")
    page.goto("/d/north-motors/cars.json")
    assert page.context.cookies() == []
