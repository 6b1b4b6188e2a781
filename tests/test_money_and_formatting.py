"""Money in minor units (ISO 4217 via babel) and locale-aware display via flask_babel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import flask_babel
import pytest

from app.domain import DomainError
from app.domain.formatting import format_date, format_datetime, format_money
from app.domain.money import (
    exponent,
    from_minor,
    is_currency,
    normalise_currency,
    to_minor,
)

NBSP = "\u00a0"  # no-break space: de before "€", uk between digit groups and before the code
NNBSP = "\u202f"  # narrow no-break space: en before "PM", uk before "р."


# --- currencies ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "UAH", "GBP", "CHF", "eur", "Jpy"])
def test_is_currency_accepts_iso_codes_in_any_case(code):
    assert is_currency(code) is True


@pytest.mark.parametrize("code", [None, "", "ZZZ", "EURO", "EU", "€", "123"])
def test_is_currency_rejects_everything_else(code):
    assert not is_currency(code)


@pytest.mark.parametrize(("typed", "code"), [("eur", "EUR"), (" usd ", "USD"), ("Uah", "UAH"), ("JPY", "JPY")])
def test_normalise_currency(typed, code):
    assert normalise_currency(typed) == code


@pytest.mark.parametrize("typed", [None, "", "  ", "ZZZ", "EURO", "€", "E U R"])
def test_normalise_currency_rejects_unknown_codes(typed):
    with pytest.raises(DomainError) as info:
        normalise_currency(typed)
    assert info.value.field == "currency"
    assert "ISO 4217" in str(info.value.message)
    assert info.value.as_dict() == {"currency": [str(info.value.message)]}


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("USD", 2), ("UAH", 2), ("JPY", 0), ("KWD", 3), ("jpy", 0)])
def test_exponent(code, places):
    assert exponent(code) == places


def test_exponent_of_an_unknown_currency_is_an_error_not_a_guess():
    with pytest.raises(DomainError):
        exponent("ZZZ")


# --- to_minor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10499.50", "EUR", 1049950),
        ("10499,50", "EUR", 1049950),
        ("10 499,50", "EUR", 1049950),
        (f"10{NBSP}499,50", "EUR", 1049950),  # pasted from the German/Ukrainian display
        (f"10{NNBSP}499,50", "EUR", 1049950),
        (" 10499.5 ", "EUR", 1049950),
        ("10499", "EUR", 1049900),
        (10499, "EUR", 1049900),
        (Decimal("10499.50"), "EUR", 1049950),
        ("0.01", "EUR", 1),
        ("0", "EUR", 0),
        ("1500000", "JPY", 1500000),
        (1500000, "JPY", 1500000),
        (Decimal("1500000.00"), "JPY", 1500000),  # how a two-decimal form field sends it back
        ("12.345", "KWD", 12345),
        ("12.500", "KWD", 12500),
        ("10499.50", "eur", 1049950),
        ("100", "jpy", 100),
    ],
)
def test_to_minor(amount, currency, minor):
    result = to_minor(amount, currency)
    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize("amount", [None, ""])
def test_to_minor_of_nothing_is_none(amount):
    assert to_minor(amount, "EUR") is None


@pytest.mark.parametrize("amount", ["-1", "-0.01", Decimal("-10499.50"), -5])
def test_negative_amounts_are_rejected(amount):
    with pytest.raises(DomainError) as info:
        to_minor(amount, "EUR")
    assert info.value.field == "price"
    assert "negative" in str(info.value.message)


@pytest.mark.parametrize(
    "amount",
    ["abc", "10.499.50", "1,000,000", "€10", "10 EUR", "1..2", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN")],
)
def test_amounts_that_are_not_numbers_are_rejected(amount):
    with pytest.raises(DomainError) as info:
        to_minor(amount, "EUR")
    assert info.value.field == "price"
    assert "such as 10499.50" in str(info.value.message)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("10.5", "JPY"), ("10.001", "EUR"), ("0.005", "EUR"), ("12.3456", "KWD"), ("10,5", "jpy")],
)
def test_more_decimals_than_the_currency_has_are_rejected_not_rounded(amount, currency):
    with pytest.raises(DomainError) as info:
        to_minor(amount, currency)
    assert info.value.field == "price"
    assert str(info.value.message) == f"{currency.upper()} has {exponent(currency)} decimal places."


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.500", "EUR"), ("12,500", "EUR"), ("1.000", "EUR"), ("12.500", "JPY"), ("10499.500", "EUR")]
)
def test_thousands_separator_look_alikes_are_not_read_as_decimals(amount, currency):
    # "12.500" (de) / "12,500" (en) mean twelve thousand five hundred, never 12.50.
    with pytest.raises(DomainError):
        to_minor(amount, currency)


@pytest.mark.parametrize("currency", ["ZZZ", "", "EURO"])
def test_to_minor_rejects_an_unknown_currency(currency):
    with pytest.raises(DomainError) as info:
        to_minor("10", currency)
    assert info.value.field == "currency"


# --- from_minor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (1049950, "EUR", "10499.50"),
        (1, "EUR", "0.01"),
        (0, "EUR", "0.00"),
        (1500000, "JPY", "1500000"),
        (12345, "KWD", "12.345"),
        (1049950, "eur", "10499.50"),
        (100, "jpy", "100"),
    ],
)
def test_from_minor(minor, currency, amount):
    result = from_minor(minor, currency)
    assert isinstance(result, Decimal)
    assert str(result) == amount


def test_from_minor_of_none_is_none():
    assert from_minor(None, "EUR") is None


def test_from_minor_rejects_an_unknown_currency():
    with pytest.raises(DomainError):
        from_minor(100, "ZZZ")


@pytest.mark.parametrize("currency", ["EUR", "JPY", "KWD", "UAH"])
@pytest.mark.parametrize("minor", [0, 1, 99, 100, 1049950, 123456789012])
def test_minor_units_round_trip(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor
    assert to_minor(str(from_minor(minor, currency)), currency) == minor


# --- formatting in the request's locale ----------------------------------------------


# ``app`` is the session-wide app of conftest.py: Flask-AppBuilder keeps its views on a
# module-level AppBuilder, so a second ``create_app`` in the same process fails.


@pytest.fixture
def kyiv_time(app, monkeypatch):
    """Users of ``app`` see Kyiv time (UTC+2 in winter, UTC+3 in summer) in this test."""
    monkeypatch.setattr(flask_babel.get_babel(app), "timezone_selector", lambda: "Europe/Kyiv")
    with app.test_request_context():
        yield


@pytest.fixture
def in_locale(app):
    """``with in_locale("de"):`` formats as a German request would."""

    def enter(locale: str):
        return flask_babel.force_locale(locale)

    with app.test_request_context(headers={"Accept-Language": "de"}):
        yield enter


def test_money_is_a_jinja_filter(app):
    assert app.jinja_env.filters["money"] is format_money
    assert app.jinja_env.filters["localdatetime"] is format_datetime
    assert app.jinja_env.filters["localdate"] is format_date


@pytest.mark.parametrize(
    ("locale", "minor", "currency", "text"),
    [
        ("de", 1049950, "EUR", f"10.499,50{NBSP}€"),
        ("en", 1049950, "EUR", "€10,499.50"),
        ("uk", 1049950, "EUR", f"10{NBSP}499,50{NBSP}EUR"),
        ("de", 1500000, "JPY", f"1.500.000{NBSP}¥"),
        ("en", 1500000, "JPY", "¥1,500,000"),
        ("uk", 1500000, "JPY", f"1{NBSP}500{NBSP}000{NBSP}¥"),
        ("uk", 123456789, "UAH", f"1{NBSP}234{NBSP}567,89{NBSP}₴"),
        ("en", 123456789, "UAH", "UAH1,234,567.89"),
        ("en", 5, "USD", "$0.05"),
        ("de", 0, "EUR", f"0,00{NBSP}€"),
        ("en", 1234, "KWD", "KWD1.234"),
    ],
)
def test_format_money(in_locale, locale, minor, currency, text):
    with in_locale(locale):
        assert format_money(minor, currency) == text


def test_format_money_accepts_a_lower_case_currency(in_locale):
    with in_locale("de"):
        assert format_money(1049950, "eur") == f"10.499,50{NBSP}€"
    with in_locale("en"):
        assert format_money(1500000, "jpy") == "¥1,500,000"


@pytest.mark.parametrize(("minor", "currency"), [(None, "EUR"), (100, None), (100, ""), (None, None)])
def test_format_money_of_nothing_is_blank(in_locale, minor, currency):
    with in_locale("en"):
        assert format_money(minor, currency) == ""


def test_format_money_follows_the_request_locale_without_force(app):
    with app.test_request_context():
        assert format_money(1049950, "EUR") == "€10,499.50"  # BABEL_DEFAULT_LOCALE is "en"


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("de", "05.03.2024, 14:30:00"),
        ("en", f"Mar 5, 2024, 2:30:00{NNBSP}PM"),
        ("uk", f"5 бер. 2024{NNBSP}р., 14:30:00"),
    ],
)
def test_format_datetime(in_locale, locale, text):
    with in_locale(locale):
        assert format_datetime(datetime(2024, 3, 5, 14, 30, tzinfo=UTC)) == text
        # An aware datetime in another zone shows the same instant.
        assert format_datetime(datetime(2024, 3, 5, 16, 30, tzinfo=timezone(timedelta(hours=2)))) == text


def test_format_datetime_of_none_is_blank(in_locale):
    with in_locale("de"):
        assert format_datetime(None) == ""


@pytest.mark.parametrize(("locale", "text"), [("de", "05.03.2024"), ("en", "Mar 5, 2024"), ("uk", f"5 бер. 2024{NNBSP}р.")])
def test_format_date(in_locale, locale, text):
    with in_locale(locale):
        assert format_date(date(2024, 3, 5)) == text
        assert format_date(None) == ""


def test_datetimes_are_shown_in_the_users_time_zone(kyiv_time):
    with flask_babel.force_locale("de"):
        assert format_datetime(datetime(2024, 3, 5, 14, 30, tzinfo=UTC)) == "05.03.2024, 16:30:00"
        assert format_datetime(datetime(2024, 7, 5, 14, 30, tzinfo=UTC)) == "05.07.2024, 17:30:00"


def test_a_naive_datetime_is_treated_as_utc(kyiv_time):
    # Stored datetimes are UTC; a naive one must not be read as Kyiv (or server) local time.
    with flask_babel.force_locale("de"):
        naive = datetime(2024, 3, 5, 14, 30)
        assert format_datetime(naive) == format_datetime(naive.replace(tzinfo=UTC))
        assert format_datetime(naive) == "05.03.2024, 16:30:00"


def test_a_naive_datetime_late_in_the_utc_day_shows_the_next_local_date(kyiv_time):
    with flask_babel.force_locale("en"):
        assert format_datetime(datetime(2024, 3, 5, 23, 15)) == f"Mar 6, 2024, 1:15:00{NNBSP}AM"
