"""The import's rules on plain values (app.domain.numbers, app.workbench.importing):
numbers as people type them in en/uk/de, header mapping, formula cells, row checks and
matching, without HTTP, Redis or the database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain import DomainError
from app.domain.numbers import format_example_amount, parse_amount, parse_day, parse_number, parse_whole_number
from app.workbench import importing
from app.workbench.importing import CREATE, ERROR, UNCHANGED, UPDATE, Known, ReadContext
from app.workbench.spreadsheets import MAX_ROWS, csv_bytes, read_table, xlsx_bytes

VIN = "WVWZZZ1JZ3W386752"  # a real VW VIN; its check digit only warns


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield lambda language="en": ReadContext(language, "EUR", "DE")


# -- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "uk"])
@pytest.mark.parametrize("typed", ["12 500,00", "12.500,00", "12\u00a0500,00", "12500,00", "12500.00", "12.500"])
def test_de_and_uk_read_grouped_amounts_with_a_decimal_comma(app, language, typed):
    with app.test_request_context():
        assert parse_number(typed, language) == Decimal(12500)
        assert parse_amount(typed, "EUR", language) == 1_250_000


@pytest.mark.parametrize("typed", ["12,500.00", "12 500.00", "12500.00", "12500"])
def test_en_reads_grouped_amounts_with_a_decimal_point(app, typed):
    with app.test_request_context():
        assert parse_amount(typed, "EUR", "en") == 1_250_000


@pytest.mark.parametrize(
    ("typed", "language"), [("12.500,00", "en"), ("12,500.00", "de"), ("1.2345", "de"), ("12,5,0", "uk"), ("abc", "en")]
)
def test_a_number_written_for_another_language_is_refused_naming_the_language(app, typed, language):
    with app.test_request_context(), pytest.raises(DomainError) as error:
        parse_amount(typed, "EUR", language, "asking_price")
    assert str(error.value.message) == f"'{typed}' is not an amount in {language}."
    assert error.value.field == "asking_price"


def test_whole_numbers_dates_and_examples_follow_the_language(app):
    with app.test_request_context():
        assert parse_whole_number("45.000", "de", "mileage") == 45000
        assert parse_whole_number("45,000", "en", "mileage") == 45000
        with pytest.raises(DomainError):
            parse_whole_number("4,5", "de", "mileage")
        assert parse_day("07.12.2026", "de", "acquired_on") == date(2026, 12, 7)
        assert parse_day("2026-12-07", "en", "acquired_on") == date(2026, 12, 7)
        with pytest.raises(DomainError):
            parse_day("soon", "en", "acquired_on")
        assert format_example_amount("12500.00", "de") == "12.500,00"
        assert format_example_amount("12500.00", "en") == "12,500.00"


# -- files ------------------------------------------------------------------------------


def test_csv_with_semicolons_and_a_bom_and_xlsx_read_alike(app):
    with app.test_request_context():
        semicolons = "\ufeffVIN;Make\r\nABC;VW\r\n".encode()
        assert read_table(semicolons) == ("csv", ["VIN", "Make"], [["ABC", "VW"]])
        assert read_table(csv_bytes(["VIN", "Make"], [["ABC", "VW"]]))[1:] == (["VIN", "Make"], [["ABC", "VW"]])
        assert read_table(xlsx_bytes(["VIN", "Price"], [["ABC", 1.234]])) == ("xlsx", ["VIN", "Price"], [["ABC", 1.234]])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"MZ\x90\x00\x03\x00\x00\x00", "This is neither a CSV nor an XLSX file."),
        (b"PK\x03\x04garbage", "This is neither a CSV nor an XLSX file."),
        (b"VIN,Make\n", "The file has a header row and no data."),
        (("VIN\n" + "x\n" * (MAX_ROWS + 1)).encode(), f"A file can have at most {MAX_ROWS} rows."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(app, data, message):
    with app.test_request_context(), pytest.raises(DomainError) as error:
        read_table(data)
    assert str(error.value.message) == message.replace("10000", "10000")


# -- mapping and rows -------------------------------------------------------------------


def test_headers_are_recognised_by_name_or_wording_and_unknown_ones_are_left_unmapped():
    aliases = {"stockno": "stock_number", "price": "asking_price"}
    mapping = importing.guess_mapping("car", ["VIN", "Stock no.", "Price", "Colour of seats", "vin"], aliases)
    assert mapping == {"0": "vin", "1": "stock_number", "2": "asking_price", "3": "", "4": ""}
    assert importing.mapping_problems("car", mapping) == []
    assert importing.mapping_problems("car", {"0": "make", "1": "make"}) == ["vin", "make"]
    assert importing.mapping_problems("client", {"0": "first_name", "1": "phone"}) == []


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","click")', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3*cmd", " =1+1"])
def test_a_formula_cell_is_an_error_even_in_an_unmapped_column(ctx, cell):
    reading = importing.read_row(
        "car", ["A-1", VIN, "VW", "Golf", "2019", cell], {"0": "stock_number", "1": "vin", "2": "make", "3": "model", "4": "year"}, ctx()
    )
    assert reading.errors == [("_row", f"'{cell}' is a formula; formulas are not imported.")]


@pytest.mark.parametrize("cell", ["+49 30 1234567", "-5", "12.500,00"])
def test_phone_numbers_and_negative_numbers_are_not_formulas(cell):
    assert not importing.is_formula(cell)


CAR_MAP = {"0": "stock_number", "1": "vin", "2": "make", "3": "model", "4": "year", "5": "asking_price"}


def test_a_car_row_is_read_in_the_files_language_with_errors_in_its_own_terms(ctx):
    good = importing.read_row("car", ["A-1", VIN.lower(), "VW", "Golf", "2019", "12.500,00"], CAR_MAP, ctx("de"))
    assert good.errors == []
    assert good.values == {"stock_number": "A-1", "vin": VIN, "make": "VW", "model": "Golf", "year": 2019, "asking_price": 1_250_000}
    bad = importing.read_row("car", ["A-2", "123", "", "Golf", "next year", "12.500,00"], CAR_MAP, ctx("en"))
    assert bad.errors == [
        ("year", "'next year' is not a number in en; write it like 12,500.00."),
        ("asking_price", "'12.500,00' is not an amount in en."),
        ("vin", "A VIN has 17 characters; this one has 3. For a classic car, tick 'legacy chassis number'."),
    ]


def test_a_client_row_needs_an_email_or_a_phone_and_normalises_both(ctx):
    mapping = {"0": "first_name", "1": "last_name", "2": "email", "3": "phone"}
    reading = importing.read_row("client", ["Anna", "Muster", " Anna@Example.ORG ", "030 1234567"], mapping, ctx("de"))
    assert reading.values == {"first_name": "Anna", "last_name": "Muster", "email": "anna@example.org", "phone": "+49301234567"}
    nothing = importing.read_row("client", ["Anna", "Muster", "", ""], mapping, ctx())
    decision = importing.decide("client", nothing, Known(), {}, 2)
    assert decision.errors == [("email", "A client needs an e-mail address or a phone number.")]


def _reading(**values):
    return importing.Reading(values=dict(values))


def test_cars_match_by_vin_or_stock_number_within_the_dealer_only():
    known = Known(
        by_key={
            "vin": {VIN: {"id": 7, "vin": VIN, "stock_number": "A-1", "make": "VW", "restricted": False}},
            "stock_number": {"A-1": {"id": 7, "vin": VIN, "stock_number": "A-1", "make": "VW", "restricted": False}},
        },
        foreign_vins={"WAUZZZ8V5KA123456"},
    )
    assert importing.decide("car", _reading(vin=VIN, make="VW"), known, {}, 2).action == UNCHANGED
    update = importing.decide("car", _reading(vin=VIN, make="Volkswagen"), known, {}, 2)
    assert (update.action, update.target_id, update.changes) == (UPDATE, 7, {"make": ["VW", "Volkswagen"]})
    new = {"stock_number": "B-1", "make": "VW", "model": "Up", "year": 2019}
    assert importing.decide("car", _reading(vin="WVWZZZ1JZ3W000000", **new), known, {}, 2).action == CREATE
    incomplete = importing.decide("car", _reading(vin="WVWZZZ1JZ3W000000", stock_number="B-1"), known, {}, 2)
    assert incomplete.errors == [(name, "A new record needs this column.") for name in ("make", "model", "year")]
    foreign = importing.decide("car", _reading(vin="WAUZZZ8V5KA123456", stock_number="B-2"), known, {}, 2)
    assert (foreign.action, foreign.errors) == (
        ERROR,
        [("vin", "This VIN is in another dealer's stock on Forecourt; it cannot be imported into yours.")],
    )
    other_vin = importing.decide("car", _reading(vin="WVWZZZ1JZ3W000000", stock_number="A-1"), known, {}, 2)
    assert other_vin.errors == [("stock_number", "This stock number belongs to a car with another VIN.")]


def test_a_file_cannot_name_one_record_twice_and_a_restricted_record_is_not_changed():
    seen: dict = {}
    anna = {"first_name": "Anna", "last_name": "Muster", "email": "a@example.org"}
    assert importing.decide("client", _reading(**anna), Known(), seen, 2).action == CREATE
    twice = importing.decide("client", _reading(**anna), Known(), seen, 5)
    assert twice.errors == [("email", "Row 2 has the same value in this column.")]
    two_people = Known(
        by_key={
            "email": {"a@example.org": {"id": 3, "email": "a@example.org", "restricted": False}},
            "phone": {"+49301234567": {"id": 4, "phone": "+49301234567", "restricted": False}},
        }
    )
    both = importing.decide("client", _reading(email="a@example.org", phone="+49301234567"), two_people, {}, 2)
    assert both.errors == [("phone", "The e-mail address and the phone number belong to different clients.")]
    restricted = Known(by_key={"email": {"r@example.org": {"id": 3, "email": "r@example.org", "restricted": True}}})
    refused = importing.decide("client", _reading(email="r@example.org"), restricted, {}, 2)
    assert refused.errors == [("_row", "The matching record is restricted (GDPR Art. 18) and cannot be changed.")]
