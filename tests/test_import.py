"""Import with preview, through the pages, the REST API and the real queue: nothing is
written before confirm; the job applies all or nothing; matching stays inside the
dealer; price changes write history; imported clients say where they came from."""

from __future__ import annotations

import html
import io
import random
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.domain.vin import build_vin
from app.form_fields import money_field
from app.models import Car, CarPriceChange, Client, ClientSource, ImportBatch, ImportRow, ImportStatus
from app.models.base import utcnow
from app.privacy.registry import entry_for
from app.workbench import imports
from app.workbench.spreadsheets import csv_bytes, read_table, xlsx_bytes
from tests.factories import make_car, new_dealer, new_email, new_user, uid
from tests.queue_support import run_queue

HEADERS = ["Stock no.", "VIN", "Make", "Model", "Year", "Mileage", "Asking price"]


def car_rows(n: int, tag: str, price: str = "12.500,00") -> list[list[str]]:
    first = random.randrange(1, 900_000)
    return [
        [f"{tag}-{i}", build_vin("WVW", "ZZZAU", 2019, "W", first + i), "Volkswagen", "Golf", "2019", "45.000", price] for i in range(n)
    ]


def cars_of(db, dealer_id: int, tag: str) -> list[Car]:
    return list(db.session.scalars(select(Car).where(Car.dealer_id == dealer_id, Car.stock_number.like(f"{tag}-%"))))


def upload(browser, kind: str, data: bytes, language: str = "de", name: str = "stock.csv"):
    return browser.post_form(
        f"/import/{kind}/", {"file": (io.BytesIO(data), name), "language": language}, content_type="multipart/form-data"
    )


def batch_id(response) -> int:
    return int(re.search(r"/import/\w+/(\d+)$", response.headers["Location"]).group(1))


@pytest.fixture
def dealer_admin(app, db, login):
    dealer = new_dealer(db)
    user = new_user("DealerAdmin", dealer.slug, language="en")
    return dealer.id, user.id, login(user.username)


def test_a_20_row_csv_with_3_bad_rows_is_previewed_fixed_and_applied_all_at_once(app, db, dealer_admin):
    dealer_id, user_id, browser = dealer_admin
    tag = f"I{uid()}"
    rows = car_rows(20, tag)
    bad = [row[:] for row in rows]
    bad[3][1] = "WVWZZZ"  # row 5: a short VIN
    bad[9][6] = "12,500.00"  # row 11: an English amount in a German file
    bad[14][5] = '=HYPERLINK("http://evil.example","x")'  # row 16: a formula
    response = upload(browser, "car", csv_bytes(HEADERS, bad))
    assert response.status_code == 302
    page = html.unescape(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert 'class="import-count-create">17<' in page and 'class="import-count-errors">3<' in page
    assert "'12,500.00' is not an amount in de." in page
    assert "A VIN has 17 characters; this one has 6." in page
    assert "is a formula; formulas are not imported." in page
    assert cars_of(db, dealer_id, tag) == []  # nothing before confirm
    refused = browser.post_form(f"/import/car/{batch_id(response)}/apply", {}, form_url=response.headers["Location"])
    assert refused.status_code == 302
    assert db.session.get(ImportBatch, batch_id(response)).status is ImportStatus.preview

    fixed = upload(browser, "car", csv_bytes(HEADERS, rows))
    pk = batch_id(fixed)
    page = browser.get(fixed.headers["Location"]).get_data(as_text=True)
    assert 'class="import-count-create">20<' in page and 'class="import-count-errors">0<' in page
    assert browser.post_form(f"/import/car/{pk}/apply", {}, form_url=fixed.headers["Location"]).status_code == 302
    assert cars_of(db, dealer_id, tag) == []  # the job writes, not the page
    run_queue(app)
    db.session.expire_all()
    cars = cars_of(db, dealer_id, tag)
    assert len(cars) == 20
    assert {(c.asking_price_minor, c.mileage, c.currency) for c in cars} == {(1_250_000, 45_000, "EUR")}
    history = db.session.scalars(select(CarPriceChange).where(CarPriceChange.car_id.in_([c.id for c in cars]))).all()
    assert len(history) == 20 and {h.changed_by_id for h in history} == {user_id}
    batch = db.session.get(ImportBatch, pk)
    assert (batch.status, batch.progress_done) == (ImportStatus.applied, 20)
    assert "import-applied" in browser.get(f"/import/car/{pk}").get_data(as_text=True)
    assert browser.get(f"/import/car/{pk}/progress").json == {"status": "applied", "percent": 100, "done": 20}


def test_a_price_change_by_import_updates_the_matched_car_and_writes_price_history(app, db, dealer_admin):
    dealer_id, user_id, browser = dealer_admin
    car = make_car(db, dealer_id, asking_price_minor=1_500_000)
    db.session.commit()
    data = csv_bytes(["VIN", "Price"], [[car.vin, "13 990,00"]])
    pk = batch_id(upload(browser, "car", data))
    row = db.session.scalars(select(ImportRow).where(ImportRow.batch_id == pk)).one()
    assert (row.action, row.target_id, row.changes) == ("update", car.id, {"asking_price": [1_500_000, 1_399_000]})
    browser.post_form(f"/import/car/{pk}/apply", {}, form_url=f"/import/car/{pk}")
    run_queue(app)
    db.session.expire_all()
    assert db.session.get(Car, car.id).asking_price_minor == 1_399_000
    last = db.session.scalars(select(CarPriceChange).where(CarPriceChange.car_id == car.id).order_by(CarPriceChange.id.desc())).first()
    assert (last.old_price_minor, last.new_price_minor, last.changed_by_id) == (1_500_000, 1_399_000, user_id)


def test_a_foreign_dealers_vin_is_an_error_and_changes_nothing(app, db, dealer_admin):
    dealer_id, _, browser = dealer_admin
    other = new_dealer(db)
    theirs = make_car(db, other.id)
    db.session.commit()
    tag = f"F{uid()}"
    response = upload(browser, "car", csv_bytes(HEADERS, [[f"{tag}-1", theirs.vin, "VW", "Golf", "2020", "1000", "9000"]]))
    page = html.unescape(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert "This VIN is in another dealer's stock on Forecourt; it cannot be imported into yours." in page
    assert 'class="import-count-errors">1<' in page and "import-apply" not in page
    assert cars_of(db, dealer_id, tag) == [] and db.session.get(Car, theirs.id).dealer_id == other.id


def test_unknown_headers_are_mapped_by_hand_and_checked_again(app, db, dealer_admin):
    _, _, browser = dealer_admin
    tag = f"M{uid()}"
    data = csv_bytes(
        ["Lagernummer", "Fahrgestell", "Marke", "Modell", "Baujahr"],
        [[f"{tag}-1", build_vin("WVW", "ZZZAU", 2019, "W", random.randrange(1, 999_999)), "VW", "Up", "2019"]],
    )
    response = upload(browser, "car", data)
    pk = batch_id(response)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "import-mapping-problems" in page and "import-apply" not in page
    chosen = {"column-0": "stock_number", "column-1": "vin", "column-2": "make", "column-3": "model", "column-4": "year"}
    browser.post_form(f"/import/car/{pk}/mapping", chosen, form_url=response.headers["Location"])
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "import-mapping-problems" not in page and 'class="import-count-create">1<' in page and "import-apply" in page


def test_imported_clients_are_matched_by_email_or_phone_and_record_their_source(app, db, dealer_admin):
    dealer_id, _, browser = dealer_admin
    known = Client(dealer_id=dealer_id, first_name="Old", last_name="Name", email=new_email())
    db.session.add(known)
    db.session.commit()
    fresh = new_email()
    data = xlsx_bytes(
        ["Vorname", "Nachname", "E-Mail", "Telefon", "City"],
        [["Olga", "Name", known.email.upper(), None, "Kyiv"], ["Nina", "Neu", fresh, "030 7654321", "Berlin"]],
    )
    pk = batch_id(upload(browser, "client", data, name="clients.xlsx"))
    rows = db.session.scalars(select(ImportRow).where(ImportRow.batch_id == pk).order_by(ImportRow.row_number)).all()
    assert [(r.action, r.target_id) for r in rows] == [("update", known.id), ("create", None)]
    assert rows[0].changes == {"first_name": None, "city": None}  # client changes name fields, never values
    assert (rows[1].email, rows[1].phone) == (fresh, "+49307654321")
    browser.post_form(f"/import/client/{pk}/apply", {}, form_url=f"/import/client/{pk}")
    run_queue(app)
    db.session.expire_all()
    assert (db.session.get(Client, known.id).first_name, db.session.get(Client, known.id).source) == ("Olga", ClientSource.walk_in)
    created = db.session.scalars(select(Client).where(Client.email == fresh)).one()
    assert (created.source, created.phone, created.city, created.dealer_id) == (ClientSource.imported, "+49307654321", "Berlin", dealer_id)


def test_the_import_rows_are_found_by_a_persons_email_for_export_and_erasure(app, db):
    entry = entry_for("import_row")
    assert entry.declaration.email_column == "email" and entry.declaration.personal["cells"] == "delete"


def test_data_changed_since_the_preview_fails_the_job_and_writes_nothing(app, db, dealer_admin):
    dealer_id, _, browser = dealer_admin
    tag = f"C{uid()}"
    pk = batch_id(upload(browser, "car", csv_bytes(HEADERS, car_rows(3, tag))))
    browser.post_form(f"/import/car/{pk}/apply", {}, form_url=f"/import/car/{pk}")
    make_car(db, dealer_id, stock_number=f"{tag}-2")  # meanwhile, by hand, with another VIN
    db.session.commit()
    run_queue(app)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, pk)
    assert (batch.status, batch.failure) == (ImportStatus.failed, "changed_since_preview")
    assert [c.stock_number for c in cars_of(db, dealer_id, tag)] == [f"{tag}-2"]
    assert imports.apply_batch(db.session, pk) == "nothing to do"  # a re-run changes nothing


def test_another_dealers_import_is_a_404_on_every_page_and_route(app, db, dealer_admin, login, api):
    dealer_id, user_id, _ = dealer_admin
    batch = imports.upload(db.session, dealer_id, user_id, "car", csv_bytes(HEADERS, car_rows(1, f"X{uid()}")), "de")
    db.session.commit()
    north = login("north-motors-admin")
    for url in (f"/import/car/{batch.id}", f"/import/car/{batch.id}/progress", f"/import/client/{batch.id}"):
        assert north.get(url).status_code == 404
    assert north.post_form(f"/import/car/{batch.id}/apply", {}, form_url="/import/car/").status_code == 404
    client = api("north-motors-admin")
    assert client.get(f"/api/v1/car/import/{batch.id}").status_code == 404
    assert client.post(f"/api/v1/car/import/{batch.id}/apply").status_code == 404
    assert db.session.get(ImportBatch, batch.id).status is ImportStatus.preview


def test_internal_staff_read_what_imports_are_for_and_cannot_upload(app, db, login):
    admin = login("admin")
    page = admin.get("/import/car/")
    assert page.status_code == 200 and "import-no-dealer" in page.get_data(as_text=True)
    assert "import-upload-form" not in page.get_data(as_text=True)
    refused = upload(admin, "car", csv_bytes(HEADERS, car_rows(1, f"A{uid()}")), name="cars.csv")
    assert refused.status_code == 404


def test_the_rest_routes_preview_apply_and_report_and_are_in_the_openapi_document(app, db, api, dealer_ids):
    client = api("north-motors-admin")
    tag = f"R{uid()}"
    data = csv_bytes(
        ["stock_number", "vin", "make", "model", "year", "asking_price"],
        [[f"{tag}-1", build_vin("WVW", "ZZZAU", 2018, "W", random.randrange(1, 999_999)), "VW", "Polo", "2018", "8,990.00"]],
    )
    answer = client.post(
        "/api/v1/car/import", data={"file": (io.BytesIO(data), "cars.csv"), "language": "en"}, content_type="multipart/form-data"
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["status"], body["counts"], body["rows"][0]["action"]) == (
        "preview",
        {"create": 1, "update": 0, "unchanged": 0, "error": 0},
        "create",
    )
    applied = client.post(f"/api/v1/car/import/{body['id']}/apply")
    assert applied.status_code == 202 and applied.json["job_id"] == f"import-{body['id']}"
    run_queue(app)
    assert client.get(f"/api/v1/car/import/{body['id']}").json["status"] == "applied"
    assert [c.asking_price_minor for c in cars_of(db, dealer_ids["north-motors"], tag)] == [899_000]
    bad = client.post("/api/v1/client/import", data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and bad.json["message"] == {"file": ["This is neither a CSV nor an XLSX file."]}
    paths = client.get("/api/v1/_openapi").json["paths"]
    for kind in ("car", "client"):
        assert "post" in paths[f"/api/v1/{kind}/import"] and "post" in paths[f"/api/v1/{kind}/import/{{import_id}}/apply"]
        assert "202" in paths[f"/api/v1/{kind}/import/{{import_id}}/apply"]["post"]["responses"]
        assert "multipart/form-data" in paths[f"/api/v1/{kind}/import"]["post"]["requestBody"]["content"]


@pytest.mark.parametrize(
    ("language", "first", "price"),
    [("de", "Bestandsnr.", "12.500,00"), ("uk", "Складський №", "12\u00a0500,00"), ("en", "Stock no.", "12,500.00")],
)
def test_templates_come_per_language_in_csv_and_xlsx_and_read_back(app, db, dealer_admin, language, first, price):
    _, _, browser = dealer_admin
    for file_format in ("csv", "xlsx"):
        response = browser.get(f"/import/car/template.{file_format}?language={language}")
        assert response.status_code == 200
        _, read_headers, rows = read_table(response.data)
        assert (len(read_headers), read_headers[0], rows[0][1], rows[0][-1]) == (19, first, "WVWZZZ1JZ3W386752", price)
    assert browser.get("/import/car/template.exe").status_code == 404


def test_old_imports_are_deleted_by_the_retention_sweep(app, db, dealer_admin):
    from app.privacy.lifecycle.sweeps import sweep_import_batches

    dealer_id, user_id, _ = dealer_admin
    batch = imports.upload(db.session, dealer_id, user_id, "car", csv_bytes(HEADERS, car_rows(2, f"S{uid()}")), "de")
    db.session.commit()
    pk = batch.id
    assert sweep_import_batches(db.session, utcnow() + timedelta(days=6), dry_run=False).get("import_batch", {}).get("deleted", 0) == 0
    sweep_import_batches(db.session, utcnow() + timedelta(days=8), dry_run=False)
    db.session.commit()
    assert db.session.get(ImportBatch, pk) is None
    assert db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.batch_id == pk)) == 0


@pytest.mark.parametrize(
    ("language", "typed", "amount"), [("de", "12.500,00", "12500.00"), ("uk", "12 500,00", "12500.00"), ("en", "12,500.00", "12500.00")]
)
def test_money_fields_take_amounts_as_people_type_them(app, language, typed, amount):
    class PriceForm(FlaskForm):
        price = money_field("Price")

    with app.test_request_context(method="POST"), force_locale(language):
        form = PriceForm(formdata=MultiDict({"price": typed}), meta={"csrf": False})
        assert form.validate(), form.errors
        assert str(form.price.data) == amount


def test_a_money_field_refuses_another_languages_amount_with_a_clear_error(app):
    class PriceForm(FlaskForm):
        price = money_field("Price")

    with app.test_request_context(method="POST"), force_locale("en"):
        form = PriceForm(formdata=MultiDict({"price": "12.500,00"}), meta={"csrf": False})
        assert not form.validate()
        assert form.errors == {"price": ["'12.500,00' is not a number in en; write it like 12,500.00."]}
