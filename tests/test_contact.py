"""Contact data: phones stored E.164, emails lower-case, countries ISO 3166 alpha-2."""

from __future__ import annotations

import pytest

from app.domain import DomainError
from app.domain.contact import normalise_country, normalise_email, normalise_phone

PHONE_HINT = "Enter the phone number with its country code, e.g. +49 30 1234567."
PHONE_INVALID = "This phone number is not valid."


def error_of(func, *args) -> DomainError:
    with pytest.raises(DomainError) as info:
        func(*args)
    return info.value


# --- phones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+49 30 1234567", None, "+49301234567"),
        ("+49 (0)30 1234567", None, "+49301234567"),
        ("+49-30-1234567", "UA", "+49301234567"),  # an explicit country code wins over the region
        ("030 1234567", "DE", "+49301234567"),
        ("030/1234567", "de", "+49301234567"),  # region in lower case
        ("0049 30 1234567", "DE", "+49301234567"),  # international prefix of the region
        ("0151 23456789", "DE", "+4915123456789"),  # German mobile
        ("+380 44 123 4567", None, "+380441234567"),
        ("044 123 4567", "UA", "+380441234567"),
        ("(202) 555-0100", "US", "+12025550100"),
        ("+44 20 7946 0958", "DE", "+442079460958"),
        ("  +49 30 1234567  ", None, "+49301234567"),
        ("+49301234567", None, "+49301234567"),  # already E.164: unchanged
    ],
)
def test_normalise_phone_to_e164(typed, region, e164):
    assert normalise_phone(typed, region) == e164


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_blank_phone_is_none(typed):
    assert normalise_phone(typed, "DE") is None
    assert normalise_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("030 1234567", None),  # national format without a region to read it in
        ("030 1234567", ""),
        ("030 1234567", "XX"),  # no such region
        ("call me", "DE"),
        ("+", None),
        ("+999 1234567", None),  # no such country calling code
    ],
)
def test_unparseable_phone_asks_for_the_country_code(typed, region):
    error = error_of(normalise_phone, typed, region)
    assert error.field == "phone"
    assert str(error.message) == PHONE_HINT


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("+1 12", None),  # too short
        ("+49 30 12", None),
        ("+1 555 000 0000 0000", None),  # too long
        ("+1 999 555 0100", None),  # no such area code
        ("12", "DE"),
    ],
)
def test_invalid_phone_is_rejected(typed, region):
    error = error_of(normalise_phone, typed, region)
    assert error.field == "phone"
    assert str(error.message) == PHONE_INVALID


def test_same_number_typed_differently_normalises_to_the_same_value():
    # Duplicate detection of clients compares the stored values.
    forms = ["+49 30 1234567", "030 1234567", "0049301234567", "(030) 123 45 67"]
    assert {normalise_phone(f, "DE") for f in forms} == {"+49301234567"}


# --- emails ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("anna@example.com", "anna@example.com"),
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("INFO@NORTH-MOTORS.EXAMPLE", "info@north-motors.example"),
        ("first+tag@Dealer.de", "first+tag@dealer.de"),
        ("Ä@BEISPIEL.DE", "ä@beispiel.de"),
    ],
)
def test_normalise_email_is_lower_case(typed, stored):
    assert normalise_email(typed) == stored


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_blank_email_is_none(typed):
    assert normalise_email(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "no-at-sign",
        "a@@b.com",
        "@example.com",
        "anna@",
        "anna@example",
        "an na@example.com",
        "anna@exa mple.com",
        "anna@localhost",
        "anna@dealer.test",
        "anna..doe@example.com",
    ],
)
def test_invalid_email_is_rejected(typed):
    error = error_of(normalise_email, typed)
    assert error.field == "email"
    assert str(error.message) == "Enter a valid email address."
    assert error.as_dict() == {"email": ["Enter a valid email address."]}


def test_same_email_typed_differently_normalises_to_the_same_value():
    forms = ["Anna.Schmidt@Example.com", " anna.schmidt@example.COM", "ANNA.SCHMIDT@EXAMPLE.COM"]
    assert {normalise_email(f) for f in forms} == {"anna.schmidt@example.com"}


# --- countries -------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "code"), [("DE", "DE"), ("de", "DE"), (" ua ", "UA"), ("gb", "GB"), ("Us", "US"), ("AT", "AT")])
def test_normalise_country(typed, code):
    assert normalise_country(typed) == code


@pytest.mark.parametrize("typed", [None, "", "  "])
def test_blank_country_is_none(typed):
    assert normalise_country(typed) is None


@pytest.mark.parametrize("typed", ["UK", "XX", "DEU", "D", "Germany", "276", "EU", "D E"])
def test_unknown_country_is_rejected(typed):
    error = error_of(normalise_country, typed)
    assert error.field == "country"
    assert "ISO 3166" in str(error.message)
