"""The rules of finding, without HTTP: parsing and normalising a quick search, the chips
of a query string, visible columns, what a saved view may keep, and the SQL condition."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from app.domain import DomainError
from app.domain.finding import (
    ListSpec,
    active_chips,
    clean_list_state,
    clean_view_name,
    make_term,
    parse_quick_query,
    visible_columns,
)

SPEC = ListSpec(
    "CarModelView",
    {"make": 8, "year": 4},
    frozenset({"stock_number", "asking_price_display"}),
    ("stock_number", "make", "asking_price_display"),
)


def test_a_quick_search_is_split_into_words_that_must_all_match():
    query = parse_quick_query("  VW   Passat ")
    assert query.text == "VW Passat"
    assert [t.text for t in query.terms] == ["vw", "passat"]


def test_an_empty_search_has_no_terms():
    assert parse_quick_query(None).terms == ()
    assert parse_quick_query("   ").terms == ()


def test_a_vin_fragment_is_compared_in_capitals_without_dashes():
    assert make_term("wvw-zzz").vin == "WVWZZZ"
    assert make_term("3w38").vin == "3W38"
    assert make_term("a@b").vin is None


@pytest.mark.parametrize(
    ("typed", "digits"),
    [("030 1234567", "301234567"), ("+49 30 1234567", "49301234567"), ("0049-30-1234567", "49301234567"), ("(030) 123/45", "3012345")],
)
def test_a_phone_number_typed_with_spaces_is_one_term_of_its_digits_without_trunk_prefix(typed, digits):
    query = parse_quick_query(typed)
    assert len(query.terms) == 1
    assert query.terms[0].digits == digits


def test_short_numbers_are_words_and_whole_numbers_compare_as_numbers():
    query = parse_quick_query("golf 2020")
    assert [t.number for t in query.terms] == [None, 2020]
    assert make_term("12").digits is None  # too short to be part of a phone number


def test_a_too_long_or_too_wordy_search_is_refused():
    with pytest.raises(DomainError) as too_long:
        parse_quick_query("x" * 101)
    assert too_long.value.field == "q"
    with pytest.raises(DomainError):
        parse_quick_query(" ".join(["a"] * 9))


def test_chips_name_the_search_and_each_known_filter_and_remove_only_themselves():
    pairs = [("q", "golf"), ("_flt_0_make", "VW"), ("_flt_0_make", "Skoda"), ("_flt_5_year", "1"), ("page_CarModelView", "3")]
    chips = active_chips(pairs, {"make": ["Starts with", "Ends with"], "year": ["Equal to"]}, "CarModelView")
    assert [(c.column, c.operation, c.value) for c in chips] == [
        (None, "", "golf"),
        ("make", "Starts with", "VW"),
        ("make", "Starts with", "Skoda"),
    ]
    assert chips[1].remove_query == (("q", "golf"), ("_flt_0_make", "Skoda"), ("_flt_5_year", "1"))
    assert chips[0].remove_query == (("_flt_0_make", "VW"), ("_flt_0_make", "Skoda"), ("_flt_5_year", "1"))


def test_visible_columns_keep_the_lists_order_and_default_to_all():
    assert visible_columns("make,stock_number", SPEC.list_columns) == ("stock_number", "make")
    assert visible_columns("", SPEC.list_columns) == SPEC.list_columns
    assert visible_columns("nonsense", SPEC.list_columns) == SPEC.list_columns


def test_a_list_state_keeps_search_filters_sort_page_size_and_columns_and_drops_the_page():
    pairs = [
        ("q", " golf  gti "),
        ("_flt_0_make", "VW"),
        ("_oc_CarModelView", "asking_price_display"),
        ("_od_CarModelView", "desc"),
        ("psize_CarModelView", "50"),
        ("page_CarModelView", "4"),
        ("cols", "make"),
        ("cols", "stock_number"),
    ]
    state = clean_list_state(pairs, SPEC)
    assert state.query_pairs("CarModelView") == [
        ("q", "golf gti"),
        ("_flt_0_make", "VW"),
        ("_oc_CarModelView", "asking_price_display"),
        ("_od_CarModelView", "desc"),
        ("psize_CarModelView", "50"),
        ("cols", "stock_number,make"),
    ]


def test_all_columns_chosen_is_no_column_choice():
    state = clean_list_state([("cols", "stock_number,make,asking_price_display")], SPEC)
    assert state.columns == ()


@pytest.mark.parametrize(
    "pair",
    [
        ("_flt_0_vin", "x"),
        ("_flt_8_make", "x"),
        ("_oc_CarModelView", "vin"),
        ("_od_CarModelView", "up"),
        ("psize_CarModelView", "1000"),
        ("cols", "dealer"),
        ("unknown", "x"),
        ("_flt_0_make", "x" * 201),
    ],
)
def test_a_list_state_refuses_what_the_list_does_not_offer(pair):
    with pytest.raises(DomainError) as refused:
        clean_list_state([pair], SPEC)
    assert refused.value.field == "query"


def test_a_list_state_keeps_at_most_twenty_filters():
    with pytest.raises(DomainError):
        clean_list_state([("_flt_0_make", str(n)) for n in range(21)], SPEC)


def test_a_view_name_is_one_trimmed_line_of_at_most_80_characters():
    assert clean_view_name("  My   stock\n") == "My stock"
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(DomainError):
            clean_view_name(bad)


def test_the_quick_search_condition_matches_every_term_through_any_column():
    from app.domain.finding import EMAIL, PHONE, TEXT, VIN
    from app.models import Car, Client, Sale
    from app.models.finding import quick_search_condition

    car = quick_search_condition(Car, {"stock_number": TEXT, "vin": VIN}, parse_quick_query("ab 12%"))
    sql = str(car.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert sql.count(" AND ") == 1 and sql.count(" OR ") == 1  # "12%" is no VIN fragment
    assert "ESCAPE '/'" in sql and "12/%" in sql  # a % typed is a percent sign, not a wildcard
    client = quick_search_condition(Client, {"phone": PHONE, "email": EMAIL}, parse_quick_query("anna"))
    assert "phone" not in str(client)  # a word without digits never compares phone numbers
    sale = quick_search_condition(Sale, {"buyer.last_name": TEXT}, parse_quick_query("fischer"))
    sql = str(sale.compile(dialect=postgresql.dialect()))
    assert "EXISTS" in sql and "client.restricted_at IS NULL" in sql and "client.dealer_id = sale.dealer_id" in sql
    assert quick_search_condition(Car, {"stock_number": TEXT}, parse_quick_query("")) is None


def test_days_in_stock_sort_key_compiles_for_sqlite_and_postgresql():
    from app.models import Car

    expression = Car.stock_days
    assert "julianday" in str(expression.compile(dialect=sqlite.dialect()))
    assert "coalesce(car.sold_on, CURRENT_DATE) - car.acquired_on" in str(expression.compile(dialect=postgresql.dialect()))
