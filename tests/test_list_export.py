"""List exports (issue 12, item 3): a list as it is filtered and sorted, as CSV (UTF-8 with
BOM) or XLSX, human- or machine-readable, for the signed-in dealer only, restricted rows
left out, formulas neutralised, big ones by a job, each export in the usage log."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.models import Car, CarStatus, PageView
from app.models.base import utcnow
from app.workbench.list_export import (
    ExportError,
    check_choice,
    compile_columns,
    converted,
    csv_chunks,
    export_columns,
    neutralise,
)
from tests.factories import make_car, new_dealer, new_user, uid
from tests.queue_support import run_queue


@pytest.fixture
def shop(db):
    """A dealer of this test alone, its admin signed in later, and four cars."""
    dealer = new_dealer(db)
    user = new_user("DealerAdmin", dealer.slug)
    db.session.commit()
    cars = [
        make_car(db, dealer.id, stock_number=f"E-{uid()}", make="Audi", model="A4", year=2018, asking_price_minor=1_999_950),
        make_car(db, dealer.id, stock_number=f"E-{uid()}", make="Audi", model="A6", year=2021, asking_price_minor=3_500_000),
        make_car(db, dealer.id, stock_number=f"E-{uid()}", make="Skoda", model='=HYPERLINK("http://x")', year=2019),
        make_car(db, dealer.id, stock_number=f"E-{uid()}", make="Audi", model="Q5", year=2015, acquired_on=date(2026, 3, 4)),
    ]
    db.session.commit()
    return dealer, user, cars


def _csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "CSV for Excel starts with a BOM"
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return list(book.active.iter_rows(values_only=True))


def test_neutralise_prefixes_every_formula_start_and_leaves_other_text():
    for text in ("=1+2", "+49 30 1234", "-5", "@SUM(A1)", "\t=x", "\r=x"):
        assert neutralise(text) == "'" + text
    assert neutralise("Audi A4") == "Audi A4"
    assert neutralise("") == ""


def test_unknown_format_or_mode_is_refused_with_a_message(app):
    with app.test_request_context():
        assert check_choice("XLSX", None) == ("xlsx", "human")
        with pytest.raises(ExportError, match="CSV or XLSX"):
            check_choice("pdf", "human")
        with pytest.raises(ExportError, match="human-readable or machine-readable"):
            check_choice("csv", "robot")


def test_converters_give_labels_and_local_numbers_for_people_and_iso_minor_units_for_machines(app, db, shop):
    _dealer, _user, cars = shop
    names = ["stock_number", "status", "published", "asking_price_minor", "acquired_on", "created_at"]
    labels = {"stock_number": "Stock no.", "asking_price": "Asking price"}
    columns = export_columns(Car, names, labels)
    assert [c.name for c in columns] == [*names, "currency"]  # the currency follows the money
    query = db.session.query(Car).filter(Car.id == cars[3].id)
    with app.test_request_context(), force_locale("de"):
        human, expressions = compile_columns(columns, "csv", "human", db.session)
        row = next(converted(query.with_entities(*expressions), human))
        machine, expressions = compile_columns(columns, "csv", "machine", db.session)
        raw = next(converted(query.with_entities(*expressions), machine))
    assert human.headers[:4] == ["Stock no.", "Status", "Published", "Asking price"]
    assert row[1:5] == ["Verfügbar", "Nein", "15000,00", "04.03.2026"]
    assert machine.headers[3] == "asking_price_minor"
    assert raw[1:5] == ["available", "false", 1_500_000, "2026-03-04"]
    assert raw[5].endswith("Z") and "T" in raw[5]


def test_csv_rows_stream_in_pieces_and_header_comes_once(app, db, shop):
    _dealer, _user, _cars = shop
    columns = export_columns(Car, ["stock_number"], {})
    with app.test_request_context():
        compiled, _expressions = compile_columns(columns, "csv", "machine", db.session)
        rows = [(f"S{i}",) for i in range(2500)]
        pieces = list(csv_chunks(iter(rows), compiled))
    assert len(pieces) >= 3  # header, then a piece per batch of rows
    lines = "".join(pieces).splitlines()
    assert lines[0] == "\ufeffstock_number" and len(lines) == 2501


def test_export_is_the_filtered_and_sorted_list_of_the_own_dealer_only(login, db, shop, dealer_ids):
    _dealer, user, cars = shop
    other = make_car(db, dealer_ids["south-cars"], make="Audi", model="A3")
    db.session.commit()
    browser = login(user.username)
    # The list's own arguments: make = Audi, sorted by year ascending.
    args = "_flt_0_make=Audi&_oc_CarModelView=year&_od_CarModelView=asc"
    listed = browser.get(f"/carmodelview/list/?{args}").get_data(as_text=True)
    assert 'action="/carmodelview/export_list"' in listed and 'name="_flt_0_make" value="Audi"' in listed
    response = browser.get(f"/carmodelview/export_list?{args}&format=csv&mode=machine")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="carmodelview-')
    rows = _csv(response)
    stock = rows[0].index("stock_number")
    assert [r[stock] for r in rows[1:]] == [cars[3].stock_number, cars[0].stock_number, cars[1].stock_number]
    assert other.stock_number not in response.get_data(as_text=True)


def test_xlsx_export_has_numbers_dates_and_neutralised_formulas(login, db, shop):
    _dealer, user, cars = shop
    browser = login(user.username)
    response = browser.get("/carmodelview/export_list?format=xlsx&mode=human&_oc_CarModelView=year&_od_CarModelView=asc")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header, *rows = _xlsx(response)
    by_stock = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_stock) == {car.stock_number for car in cars}
    first = by_stock[cars[0].stock_number]
    assert first["Asking price"] == pytest.approx(19999.50) and first["Currency"] == "EUR"
    assert first["Status"] == "Available" and first["Published"] == "No"
    assert by_stock[cars[3].stock_number]["Acquired"].date() == date(2026, 3, 4)
    assert by_stock[cars[2].stock_number]["Model"] == '\'=HYPERLINK("http://x")'


def test_csv_export_neutralises_formula_cells(login, db, shop):
    _dealer, user, _cars = shop
    response = login(user.username).get("/carmodelview/export_list?format=csv&mode=human")
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text


def test_restricted_rows_are_left_out_like_on_the_list(login, db, shop):
    _dealer, user, cars = shop
    db.session.get(Car, cars[1].id).restricted_at = utcnow()
    db.session.commit()
    text = login(user.username).get("/carmodelview/export_list?format=csv&mode=machine").get_data(as_text=True)
    assert cars[1].stock_number not in text and cars[0].stock_number in text


def test_unknown_format_goes_back_to_the_list_with_a_message(login, shop):
    _dealer, user, _cars = shop
    browser = login(user.username)
    response = browser.get("/carmodelview/export_list?format=pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/carmodelview/list/")
    assert "Choose CSV or XLSX" in browser.get("/carmodelview/list/").get_data(as_text=True)


def test_export_needs_the_lists_permission(login):
    response = login(None).get("/carmodelview/export_list?format=csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_each_export_is_recorded_in_the_usage_log(login, db, shop):
    _dealer, user, _cars = shop
    login(user.username).get("/carmodelview/export_list?format=xlsx&mode=machine")
    features = db.session.scalars(select(PageView.feature).where(PageView.user_id == user.id)).all()
    assert "list_export:CarModelView:xlsx:machine" in features


def test_a_big_export_is_written_by_a_job_and_downloaded_when_ready(app, login, db, shop, monkeypatch):
    dealer, user, cars = shop
    monkeypatch.setitem(app.config, "LIST_EXPORT_INLINE_ROWS", 2)
    browser = login(user.username)
    response = browser.get("/carmodelview/export_list?format=xlsx&mode=machine&_flt_0_make=Audi")
    assert response.status_code == 302
    waiting = response.headers["Location"]
    assert "/carmodelview/export_list/file/" in waiting
    page = browser.get(waiting)
    assert page.status_code == 200 and "being prepared" in page.get_data(as_text=True)
    run_queue(app)
    link = re.search(r'id="export-download" href="([^"]+)"', browser.get(waiting).get_data(as_text=True))
    assert link, "the page shows a download link once the file is ready"
    ready = browser.get(link.group(1).replace("&amp;", "&"))
    assert ready.status_code == 200 and ready.mimetype.endswith("spreadsheetml.sheet")
    header, *rows = _xlsx(ready)
    assert sorted(row[header.index("stock_number")] for row in rows) == sorted(c.stock_number for c in cars if c.make == "Audi")
    # Another user of the same dealer cannot fetch it.
    colleague = new_user("DealerAdmin", dealer.slug)
    db.session.commit()
    assert login(colleague.username).get(waiting).status_code == 404
    assert login(colleague.username).get(link.group(1).replace("&amp;", "&")).status_code == 404


def test_rest_export_follows_q_and_is_in_the_openapi_document(api, db, shop):
    _dealer, user, cars = shop
    client = api(user.username)
    q = "(filters:!((col:make,opr:eq,value:Audi)),order_column:year,order_direction:desc)"
    response = client.get(f"/api/v1/car/export?format=csv&q={q}")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = _csv(response)
    stock = rows[0].index("stock_number")
    assert [r[stock] for r in rows[1:]] == [cars[1].stock_number, cars[0].stock_number, cars[3].stock_number]
    assert rows[0][rows[0].index("asking_price_minor")] == "asking_price_minor"
    assert client.get("/api/v1/car/export?format=pdf").status_code == 400
    features = db.session.scalars(select(PageView.feature).where(PageView.user_id == user.id)).all()
    assert features.count("api_list_export:car:csv:machine") == 1
    spec = client.get("/api/v1/_openapi").json
    assert "get" in spec["paths"]["/api/v1/car/export"] and "post" in spec["paths"]["/api/v1/car/bulk"]
    assert "post" in spec["paths"]["/api/v1/inquiry/bulk"]


def test_rest_export_of_another_dealers_rows_is_empty(api, db, shop, dealer_ids):
    _dealer, user, cars = shop
    theirs = make_car(db, dealer_ids["south-cars"], status=CarStatus.available)
    db.session.commit()
    text = api(user.username).get("/api/v1/car/export?format=csv").get_data(as_text=True)
    assert theirs.stock_number not in text and cars[0].stock_number in text


def test_rest_export_of_inquiries_carries_the_related_ids(api, db, shop):
    from tests.factories import add_inquiry, new_person

    dealer, user, cars = shop
    inquiry = add_inquiry(db, new_person(), dealer.id)
    inquiry.car_id = cars[0].id
    db.session.commit()
    rows = _csv(api(user.username).get("/api/v1/inquiry/export?format=csv"))
    header, line = rows[0], rows[1]
    assert line[header.index("id")] == str(inquiry.id) and line[header.index("car.id")] == str(cars[0].id)
    assert line[header.index("client.id")] == ""
