"""Bad input gets a clear error and changes nothing (HTML forms and REST)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.vin import build_vin
from app.models import Car, CarPriceChange, CarStatus, CarStatusChange, Client, Sale, SaleStatus

USER = "north-motors-admin"


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def _car(**overrides):
    body = {
        "stock_number": "V-100",
        "vin": build_vin("WVW", "ZZZAU", 2020, "W", 4711),
        "make": "Volkswagen",
        "model": "Golf",
        "year": 2020,
        "mileage": 25000,
        "mileage_unit": "km",
        "currency": "EUR",
        "asking_price_minor": 1899000,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"vin": "INVALIDVIN123"}, "vin"),
        ({"vin": "1HGCM82623A004352"}, "vin"),  # North-American VIN with a wrong check digit
        ({"vin": "WVWZZZ1JZ3W38675Q"}, "vin"),  # Q never appears in a VIN
        ({"mileage": -5}, "mileage"),
        ({"currency": "XYZ"}, "currency"),
        ({"asking_price_minor": -100}, "asking_price"),
        ({"year": 1975}, "vin"),  # a pre-1981 car needs the legacy flag
        ({"status": "sold"}, "status"),  # only a sale makes a car sold
    ],
)
def test_bad_car_is_refused_through_the_api(api, db, overrides, field):
    before = _count(db, Car)
    response = api(USER).post("/api/v1/car/", json=_car(**overrides))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert any(key.startswith(field) for key in response.json["message"]), response.json
    assert _count(db, Car) == before


def test_european_vin_with_a_failing_check_digit_is_accepted(api, db):
    response = api(USER).post("/api/v1/car/", json=_car(stock_number="V-VW", vin="WVWZZZ1JZ3W386752", year=2003))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_classic_with_legacy_chassis_number_is_accepted(api):
    body = _car(stock_number="V-CLASSIC", vin="113.044-10-012345", year=1969, legacy_chassis_number=True)
    assert api(USER).post("/api/v1/car/", json=body).status_code == 201


def test_duplicate_stock_number_is_refused(api, db):
    client = api(USER)
    assert client.post("/api/v1/car/", json=_car(stock_number="V-DUP", vin=build_vin("WBA", "8E110", 2021, "A", 1))).status_code == 201
    before = _count(db, Car)
    response = client.post("/api/v1/car/", json=_car(stock_number="V-DUP", vin=build_vin("WBA", "8E110", 2021, "A", 2)))
    assert response.status_code == 422
    assert "stock_number" in response.json["message"]
    assert _count(db, Car) == before


def test_invalid_vin_through_the_form_shows_the_error_and_saves_nothing(login, db):
    browser = login(USER)
    before = _count(db, Car)
    form = {
        "dealer": "",
        "stock_number": "FORM-1",
        "vin": "INVALIDVIN123",
        "year": "2020",
        "make": "VW",
        "model": "Golf",
        "mileage": "100",
        "mileage_unit": "km",
        "condition": "used",
        "status": "available",
        "acquired_on": "2026-01-01",
        "currency": "EUR",
        "asking_price": "10499.50",
    }
    dealer_id = db.session.scalar(select(Car.dealer_id).join(Car.dealer).where(Car.stock_number.like("N%")))
    form["dealer"] = str(dealer_id)
    response = browser.post_form("/carmodelview/add", form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "A VIN has 17 characters" in html
    assert _count(db, Car) == before


def test_price_and_status_changes_are_recorded_as_history(api, db):
    client = api(USER)
    created = client.post("/api/v1/car/", json=_car(stock_number="V-HIST", vin=build_vin("TMB", "JG7NE", 2022, "B", 7)))
    car_id = created.json["id"]
    changed = client.put(f"/api/v1/car/{car_id}", json={"asking_price_minor": 1799000})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert client.put(f"/api/v1/car/{car_id}", json={"status": "available"}).status_code == 200
    prices = db.session.scalars(select(CarPriceChange).where(CarPriceChange.car_id == car_id).order_by(CarPriceChange.id)).all()
    statuses = db.session.scalars(select(CarStatusChange).where(CarStatusChange.car_id == car_id).order_by(CarStatusChange.id)).all()
    assert [(p.old_price_minor, p.new_price_minor) for p in prices] == [(None, 1899000), (1899000, 1799000)]
    assert [(s.old_status, s.new_status) for s in statuses] == [(None, CarStatus.acquired), (CarStatus.acquired, CarStatus.available)]
    prices[0].new_price_minor = 1
    with pytest.raises(RuntimeError, match="insert-only"):
        db.session.flush()
    db.session.rollback()


def test_a_sold_sale_marks_the_car_sold_and_a_second_sale_is_refused(api, db):
    client = api(USER)
    car_id = client.post("/api/v1/car/", json=_car(stock_number="V-SALE", vin=build_vin("VF1", "RJA00", 2019, "C", 9))).json["id"]
    buyer = db.session.scalar(select(Client.id).where(Client.dealer_id == db.session.get(Car, car_id).dealer_id))
    sale = {
        "deal_number": "D-900",
        "car": car_id,
        "buyer": buyer,
        "price_minor": 1500000,
        "currency": "EUR",
        "status": "sold",
        "sale_date": "2026-11-20",
    }
    assert client.post("/api/v1/sale/", json=sale).status_code == 201
    db.session.expire_all()
    car = db.session.get(Car, car_id)
    assert car.status == CarStatus.sold and car.published is False and str(car.sold_on) == "2026-11-20"
    before = _count(db, Sale)
    second = client.post("/api/v1/sale/", json={**sale, "deal_number": "D-901"})
    assert second.status_code == 422
    assert "car" in second.json["message"]
    assert _count(db, Sale) == before
    first = db.session.scalar(select(Sale).where(Sale.deal_number == "D-900", Sale.car_id == car_id))
    assert client.put(f"/api/v1/sale/{first.id}", json={"status": "voided"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Car, car_id).status == CarStatus.available
    assert db.session.get(Sale, first.id).status == SaleStatus.voided


def test_client_email_is_stored_lower_case_and_duplicates_are_flagged(api, db):
    client = api(USER)
    first = client.post(
        "/api/v1/client/", json={"first_name": "Dana", "last_name": "Dup", "email": "Dana.Dup@Example.COM", "phone": "+49 30 12345678"}
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    second = client.post("/api/v1/client/", json={"first_name": "D.", "last_name": "Dup", "phone": "+49 (30) 1234-5678"})
    assert second.status_code == 201
    db.session.expire_all()
    a, b = db.session.get(Client, first.json["id"]), db.session.get(Client, second.json["id"])
    assert a.email == "dana.dup@example.com"
    assert a.phone == b.phone == "+493012345678"
    assert a.possible_duplicate and b.possible_duplicate


def test_bad_phone_is_refused(api, db):
    before = _count(db, Client)
    response = api(USER).post("/api/v1/client/", json={"first_name": "X", "last_name": "Y", "phone": "12"})
    assert response.status_code == 422
    assert "phone" in response.json["message"]
    assert _count(db, Client) == before
