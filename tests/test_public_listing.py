"""A dealer's public listing: published cars only (never restricted, sold or another
dealer's), their photos only, schema.org JSON-LD, the JSON and CSV feeds; no cookie, no
personal data, cacheable with an ETag."""

from __future__ import annotations

import csv
import io
import json
import re

from app.models import CarStatus, Client
from app.models.base import utcnow
from app.workbench import photos as service
from tests.factories import make_car, make_client, uid
from tests.photo_support import jpeg_with_gps

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def _cars(app, dealer_ids):
    """A published car with two photos, and the cars that must never be listed."""
    from app.extensions import db

    with app.test_request_context():
        north, south = dealer_ids["north-motors"], dealer_ids["south-cars"]
        listed = make_car(
            db, north, published=True, make="Skoda", model=f"Octavia {uid()}", asking_price_minor=1_049_900, exterior_colour="Blue"
        )
        service.add_photos(db.session, listed, [service.Upload("a.jpg", jpeg_with_gps()), service.Upload("b.jpg", jpeg_with_gps())])
        hidden = {
            "unpublished": make_car(db, north, published=False, model=f"Hidden {uid()}"),
            "restricted": make_car(db, north, published=True, model=f"Restricted {uid()}", restricted_at=utcnow()),
            "sold": make_car(db, north, published=True, model=f"Sold {uid()}", status=CarStatus.sold),
            "other dealer": make_car(db, south, published=True, model=f"Other {uid()}"),
        }
        for car in hidden.values():
            if car.restricted_at is None:
                service.add_photos(db.session, car, [service.Upload("x.jpg", jpeg_with_gps())])
        client = make_client(db, north)
        db.session.commit()
        photos = {name: [p.id for p in car.photos] for name, car in hidden.items()}
        return listed.id, [p.id for p in listed.photos], {n: (c.id, c.model) for n, c in hidden.items()}, photos, client.email


def test_the_listing_shows_published_cars_only_with_valid_json_ld(app, dealer_ids):
    car_id, _photo_ids, hidden, _photos, client_email = _cars(app, dealer_ids)
    client = app.test_client()
    page = client.get("/d/north-motors/cars")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-car-id="{car_id}"' in html
    for name, (hidden_id, model) in hidden.items():
        assert model not in html, name
        assert f'data-car-id="{hidden_id}"' not in html, name
    assert client_email not in html
    (block,) = JSON_LD.findall(html)
    data = json.loads(block)
    assert data["@context"] == "https://schema.org" and data["@type"] == "ItemList"
    cars = {item["item"]["url"].rsplit("/", 1)[1]: item["item"] for item in data["itemListElement"]}
    assert str(car_id) in cars and all(str(h) not in cars for h, _ in hidden.values())
    car = cars[str(car_id)]
    assert car["@type"] == "Car" and car["brand"] == {"@type": "Brand", "name": "Skoda"}
    assert car["offers"]["@type"] == "Offer"
    assert (car["offers"]["price"], car["offers"]["priceCurrency"]) == ("10499.00", "EUR")
    assert car["itemCondition"] == "https://schema.org/UsedCondition"
    assert len(car["image"]) == 2


def test_a_cars_page_links_the_inquiry_form_and_describes_the_offer(app, dealer_ids):
    car_id, _photo_ids, hidden, _photos, _ = _cars(app, dealer_ids)
    client = app.test_client()
    html = client.get(f"/d/north-motors/cars/{car_id}").get_data(as_text=True)
    assert f"/d/north-motors/inquiry?car={car_id}" in html
    data = json.loads(JSON_LD.findall(html)[0])
    assert data["@type"] == "Car" and data["vehicleIdentificationNumber"] and data["offers"]["seller"]["@type"] == "AutoDealer"
    assert data["mileageFromOdometer"] == {"@type": "QuantitativeValue", "value": 1000, "unitCode": "KMT"}
    assert client.get(f"/d/north-motors/inquiry?car={car_id}").status_code == 200
    for name, (hidden_id, _model) in hidden.items():
        slug = "south-cars" if name == "other dealer" else "north-motors"
        assert client.get(f"/d/north-motors/cars/{hidden_id}").status_code == 404, name
        if name == "other dealer":
            assert client.get(f"/d/{slug}/cars/{hidden_id}").status_code == 200


def test_photos_are_public_only_for_listed_cars(app, dealer_ids):
    _car_id, photo_ids, _hidden, hidden_photos, _ = _cars(app, dealer_ids)
    client = app.test_client()
    image = client.get(f"/d/north-motors/photos/{photo_ids[0]}/large.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert b"SecretCam" not in image.data and b"Exif" not in image.data
    assert client.get(f"/d/north-motors/photos/{photo_ids[0]}/thumb.jpg").status_code == 200
    assert client.get(f"/d/north-motors/photos/{photo_ids[0]}/original.jpg").status_code == 404
    for name, ids in hidden_photos.items():
        for photo_id in ids:
            assert client.get(f"/d/north-motors/photos/{photo_id}/large.jpg").status_code == 404, name
    # Another dealer's slug does not reach this dealer's photos either.
    assert client.get(f"/d/south-cars/photos/{photo_ids[0]}/large.jpg").status_code == 404


def test_the_feeds_list_the_published_cars_with_their_images(app, dealer_ids):
    car_id, photo_ids, hidden, _photos, client_email = _cars(app, dealer_ids)
    client = app.test_client()
    feed = client.get("/d/north-motors/cars.json")
    assert feed.status_code == 200 and feed.mimetype == "application/json"
    rows = {row["id"]: row for row in feed.json["cars"]}
    assert car_id in rows and not {h for h, _ in hidden.values()} & set(rows)
    row = rows[car_id]
    assert row["price"] == "10499.00 EUR" and row["price_minor"] == 1_049_900 and row["condition"] == "used"
    assert row["image_link"].endswith(f"/d/north-motors/photos/{photo_ids[0]}/large.jpg")
    assert len(row["additional_image_links"]) == 1
    assert row["inquiry_link"].endswith(f"/d/north-motors/inquiry?car={car_id}")
    text = client.get("/d/north-motors/cars.csv").get_data(as_text=True)
    assert client_email not in text and client_email not in feed.get_data(as_text=True)
    records = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert records[str(car_id)]["price"] == "10499.00 EUR" and records[str(car_id)]["vin"] == row["vin"]


def test_a_formula_typed_into_a_car_is_neutralised_in_the_csv_feed(app, dealer_ids):
    from app.extensions import db

    with app.app_context():
        car = make_car(db, dealer_ids["north-motors"], published=True, trim='=HYPERLINK("http://evil.example","x")')
        db.session.commit()
        car_id = car.id
    records = {r["id"]: r for r in csv.DictReader(io.StringIO(app.test_client().get("/d/north-motors/cars.csv").get_data(as_text=True)))}
    assert records[str(car_id)]["trim"].startswith("'=HYPERLINK")


def test_the_listing_sets_no_cookie_and_is_cacheable_with_an_etag(app, dealer_ids):
    _cars(app, dealer_ids)
    client = app.test_client()
    for url in ("/d/north-motors/cars", "/d/north-motors/cars.json", "/d/north-motors/cars.csv"):
        answer = client.get(url)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, url
        assert answer.headers["Cache-Control"] == "public, max-age=300", url
        etag = answer.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and "Set-Cookie" not in again.headers, url
    assert client.get_cookie("session") is None


def test_an_unknown_or_terminated_dealer_has_no_listing(app, dealer_ids):
    client = app.test_client()
    assert client.get("/d/no-such-dealer/cars").status_code == 404
    assert client.get("/d/no-such-dealer/cars.json").status_code == 404
    assert client.get("/d/no-such-dealer/cars.json").headers["Cache-Control"] == "no-store"


def test_the_listing_holds_no_client_data(app, dealer_ids):
    from app.extensions import db

    _cars(app, dealer_ids)
    with app.app_context():
        emails = [c.email for c in db.session.query(Client).filter(Client.dealer_id == dealer_ids["north-motors"]).limit(20) if c.email]
    text = app.test_client().get("/d/north-motors/cars.json").get_data(as_text=True)
    assert emails and not any(email in text for email in emails)
