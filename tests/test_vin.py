"""VIN rules from DOMAIN.md ("Vehicles"): format, check digit, legacy chassis numbers."""

from __future__ import annotations

import random

import pytest

from app.domain.vin import (
    VinCheck,
    build_vin,
    check_digit,
    check_vin,
    decode_vin,
    is_north_american,
    normalise_vin,
)

HONDA = "1HGCM82633A004352"  # North-American, check digit 3, model year 2003
MCI = "1M8GDM9AXKP042788"  # North-American, check digit X
VW = "WVWZZZ1JZ3W386752"  # real European VIN whose position 9 fails the check digit
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def with_char(vin: str, position: int, char: str) -> str:
    """``vin`` with the 1-based ``position`` replaced by ``char``."""
    return vin[: position - 1] + char + vin[position:]


def wrong_check_digit(vin: str) -> str:
    """``vin`` with a position-9 character that is certainly not its check digit."""
    wrong = "1" if check_digit(vin) != "1" else "2"
    return with_char(vin, 9, wrong)


# --- check_digit -------------------------------------------------------------------


@pytest.mark.parametrize(("vin", "expected"), [(HONDA, "3"), (MCI, "X"), ("11111111111111111", "1")])
def test_check_digit_of_known_vins(vin, expected):
    assert check_digit(vin) == expected


def test_check_digit_ignores_position_9_itself():
    # Position 9 has weight 0, so whatever stands there does not change the result.
    for char in "0123456789X":
        assert check_digit(with_char(HONDA, 9, char)) == "3"


def test_check_digit_transliterates_letters_as_domain_md_says():
    # Only position 1 (weight 8) varies; every other position is "0".
    table = {
        "A": 1,
        "B": 2,
        "C": 3,
        "D": 4,
        "E": 5,
        "F": 6,
        "G": 7,
        "H": 8,
        "J": 1,
        "K": 2,
        "L": 3,
        "M": 4,
        "N": 5,
        "P": 7,
        "R": 9,
        "S": 2,
        "T": 3,
        "U": 4,
        "V": 5,
        "W": 6,
        "X": 7,
        "Y": 8,
        "Z": 9,
    }
    for letter, value in table.items():
        remainder = value * 8 % 11
        expected = "X" if remainder == 10 else str(remainder)
        assert check_digit(letter + "0" * 16) == expected, letter


def test_check_digit_uses_the_weights_of_domain_md():
    weights = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
    for position, weight in enumerate(weights, start=1):
        vin = with_char("0" * 17, position, "1")
        remainder = weight % 11
        assert check_digit(vin) == ("X" if remainder == 10 else str(remainder)), position


# --- check_vin: valid VINs and normalisation -----------------------------------------


@pytest.mark.parametrize("vin", [HONDA, MCI])
def test_known_north_american_vins_are_accepted_without_warnings(vin):
    result = check_vin(vin, 2003)
    assert result == VinCheck(vin, [], [])
    assert result.ok


def test_vin_without_model_year_is_checked_like_a_modern_one():
    assert check_vin(HONDA).ok
    assert not check_vin(wrong_check_digit(HONDA)).ok


@pytest.mark.parametrize(
    "typed",
    ["1hgcm82633a004352", "  1HGCM82633A004352\n", "1HGC M826 33A0 04352", "\t1hgcm8\u00a02633a004352 "],
)
def test_lowercase_and_whitespace_are_normalised(typed):
    result = check_vin(typed, 2003)
    assert result.vin == HONDA
    assert result.errors == []
    assert result.warnings == []


def test_normalise_vin_handles_none_and_blank():
    assert normalise_vin(None) == ""
    assert normalise_vin("  \t ") == ""
    assert normalise_vin(" ab c ") == "ABC"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_vin_is_an_error(value):
    result = check_vin(value, 2020)
    assert not result.ok
    assert result.errors == ["Enter the VIN."]


# --- check_vin: format ---------------------------------------------------------------


@pytest.mark.parametrize("letter", ["I", "O", "Q", "i", "o", "q"])
def test_letters_i_o_q_are_rejected(letter):
    result = check_vin(with_char(HONDA, 5, letter), 2003)
    assert not result.ok
    assert len(result.errors) == 1
    assert "never I, O or Q" in result.errors[0]


@pytest.mark.parametrize("bad", ["-", "_", "Ä", "*", "."])
def test_other_characters_are_rejected(bad):
    result = check_vin(with_char(HONDA, 12, bad), 2003)
    assert not result.ok
    assert "never I, O or Q" in result.errors[0]


@pytest.mark.parametrize("vin", [HONDA[:16], HONDA + "1", "1HG", HONDA * 2])
def test_wrong_length_is_rejected_with_the_length_and_a_hint(vin):
    result = check_vin(vin, 2003)
    assert not result.ok
    assert len(result.errors) == 1
    assert f"this one has {len(vin)}" in result.errors[0]
    assert "legacy chassis number" in result.errors[0]


# --- check_vin: check digit ----------------------------------------------------------


def test_north_american_vin_with_wrong_check_digit_is_an_error():
    vin = with_char(HONDA, 9, "4")
    result = check_vin(vin, 2003)
    assert not result.ok
    assert result.warnings == []
    assert result.errors == ["The VIN's check digit (position 9) should be 3; check for a typo."]


def test_a_single_typo_elsewhere_is_caught_by_the_check_digit():
    typo = with_char(HONDA, 12, "5")  # "0" -> "5" in the serial
    result = check_vin(typo, 2003)
    assert not result.ok
    assert "check digit" in result.errors[0]


def test_north_american_x_check_digit_must_be_x():
    result = check_vin(with_char(MCI, 9, "0"), 2019)
    assert not result.ok
    assert "should be X" in result.errors[0]


@pytest.mark.parametrize("first", list("12345"))
def test_every_north_american_first_character_enforces_the_check_digit(first):
    vin = build_vin(first + "HG", "CM826", 2003, "A", 4352)
    assert check_vin(vin, 2003).ok
    assert not check_vin(wrong_check_digit(vin), 2003).ok


def test_real_european_vin_with_failing_check_digit_is_accepted_with_a_warning():
    assert check_digit(VW) != VW[8]  # the premise: this real VIN fails the check
    result = check_vin(VW, 2003)
    assert result.ok
    assert result.errors == []
    assert len(result.warnings) == 1
    assert "outside North America" in result.warnings[0]


@pytest.mark.parametrize("first", ["6", "7", "8", "9", "0", "J", "K", "S", "V", "W", "Z"])
def test_non_north_american_wrong_check_digit_is_only_a_warning(first):
    vin = wrong_check_digit(with_char(HONDA, 1, first))
    result = check_vin(vin, 2010)
    assert result.ok
    assert len(result.warnings) == 1


def test_non_north_american_vin_with_correct_check_digit_has_no_warning():
    vin = build_vin("WVW", "ZZZ1J", 2003, "W", 386752)
    assert check_vin(vin, 2003) == VinCheck(vin, [], [])


def test_is_north_american():
    assert all(is_north_american(c + "X") for c in "12345")
    assert not any(is_north_american(c + "X") for c in "06789ASWJZ")
    assert not is_north_american("")


# --- model year and the legacy flag ---------------------------------------------------


def test_model_year_1981_is_the_first_with_a_standard_vin():
    assert check_vin(HONDA, 1981).ok
    assert not check_vin(wrong_check_digit(HONDA), 1981).ok


@pytest.mark.parametrize("year", [1980, 1975, 1950])
def test_pre_1981_car_without_legacy_flag_is_rejected(year):
    result = check_vin(HONDA, year)
    assert not result.ok
    assert "before 1981" in result.errors[0]
    assert "legacy chassis number" in result.errors[0]


@pytest.mark.parametrize("year", [1980, 1965, None])
def test_pre_1981_car_with_legacy_flag_is_accepted(year):
    # A 17-character number on a classic need not follow the modern check digit.
    result = check_vin(wrong_check_digit(HONDA), year, legacy=True)
    assert result.ok
    assert result.warnings == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("113.044-10-012345", "113.044-10-012345"),  # Mercedes-Benz W113 style
        ("hbj8l/12345", "HBJ8L/12345"),  # Austin-Healey style, upper-cased
        ("124AS0012345", "124AS0012345"),
        ("ab", "AB"),  # shortest
        ("X" * 24, "X" * 24),  # longest
        ("WP0ZZZ91ZGS100123O", "WP0ZZZ91ZGS100123O"),  # O is fine on a chassis plate
    ],
)
def test_legacy_chassis_numbers_are_accepted_with_the_flag(typed, stored):
    result = check_vin(typed, 1970, legacy=True)
    assert result.ok, result.errors
    assert result.vin == stored


@pytest.mark.parametrize("typed", ["113.044-10-012345", "HBJ8L/12345", "124AS0012345"])
def test_legacy_chassis_numbers_are_rejected_without_the_flag(typed):
    result = check_vin(typed, 1970)
    assert not result.ok
    # Whatever the format, a pre-1981 car is told about the flag (not about I, O and Q).
    assert result.errors == ["Cars built before 1981 have no standard VIN: tick 'legacy chassis number'."]


@pytest.mark.parametrize("typed", ["113.044-10-012345", "HBJ8L/12345"])
def test_chassis_numbers_without_flag_or_year_are_rejected(typed):
    result = check_vin(typed)
    assert not result.ok
    assert len(result.errors) == 1


@pytest.mark.parametrize("typed", ["A", "X" * 25, "-ABC123", "ABC#123", "ÄBC123", "ABC_123"])
def test_legacy_flag_still_rejects_garbage(typed):
    result = check_vin(typed, 1970, legacy=True)
    assert not result.ok
    assert "chassis number has 2 to 24" in result.errors[0]


def test_legacy_flag_does_not_waive_the_check_digit_of_a_modern_north_american_vin():
    # Ticking "legacy chassis number" on a 2003 Honda must not let a VIN typo through.
    result = check_vin(with_char(HONDA, 9, "4"), 2003, legacy=True)
    assert not result.ok
    assert "should be 3" in result.errors[0]


def test_legacy_flag_on_a_modern_vin_keeps_the_non_north_american_warning():
    result = check_vin(VW, 2003, legacy=True)
    assert result.ok
    assert len(result.warnings) == 1


def test_legacy_flag_on_a_modern_valid_vin_is_harmless():
    assert check_vin(HONDA, 2003, legacy=True) == VinCheck(HONDA, [], [])


def test_legacy_flag_allows_non_17_character_numbers_of_any_year():
    # e.g. Japanese home-market cars carry frame numbers such as "JZA80-0012345".
    result = check_vin("JZA80-0012345", 1995, legacy=True)
    assert result.ok
    assert result.vin == "JZA80-0012345"


# --- build_vin ---------------------------------------------------------------------


def test_build_vin_reproduces_a_known_vin():
    assert build_vin("1HG", "CM826", 2003, "A", 4352) == HONDA


@pytest.mark.parametrize(
    ("year", "code"),
    [
        (1980, "A"),
        (1981, "B"),
        (1988, "J"),
        (1993, "P"),
        (1994, "R"),
        (1997, "V"),
        (2000, "Y"),
        (2001, "1"),
        (2009, "9"),
        (2010, "A"),
        (2019, "K"),
        (2024, "R"),
        (2030, "Y"),
        (2031, "1"),
    ],
)
def test_build_vin_puts_the_model_year_code_at_position_10(year, code):
    assert build_vin("WVW", "ZZZAU", year, "W", 1)[9] == code


def test_build_vin_layout():
    vin = build_vin("wba", "8e110", 2021, "a", 42)
    assert len(vin) == 17
    assert vin[:3] == "WBA"
    assert vin[3:8] == "8E110"
    assert vin[10] == "A"
    assert vin[11:] == "000042"
    assert vin[8] == check_digit(vin)


def test_build_vin_output_passes_check_vin_for_many_inputs():
    rng = random.Random(20240305)
    for _ in range(500):
        wmi = rng.choice("12345JKSVWZ") + "".join(rng.choice(VIN_ALPHABET) for _ in range(2))
        vds = "".join(rng.choice(VIN_ALPHABET) for _ in range(5))
        year = rng.randrange(1981, 2040)
        vin = build_vin(wmi, vds, year, rng.choice(VIN_ALPHABET), rng.randrange(0, 1_000_000))
        result = check_vin(vin, year)
        assert result == VinCheck(vin, [], []), vin


@pytest.mark.parametrize(
    ("wmi", "vds", "serial"),
    [("WV", "ZZZAU", 1), ("WVW", "ZZZAUX", 1), ("WVW", "ZZZAU", 1_000_000), ("WVW", "ZZOAU", 1)],
)
def test_build_vin_refuses_inputs_that_cannot_make_a_vin(wmi, vds, serial):
    with pytest.raises(ValueError, match="cannot build a VIN"):
        build_vin(wmi, vds, 2020, "A", serial)


# --- decode_vin --------------------------------------------------------------------


def test_decode_vin_names_the_manufacturer_region_and_year():
    assert decode_vin(HONDA) == {"manufacturer": "Honda", "region": "North America", "years": "2003"}


def test_decode_vin_of_a_european_vin_that_fails_the_check_digit():
    info = decode_vin(VW)
    assert info["manufacturer"] == "Volkswagen"
    assert info["region"] == "Europe"
    assert "2003" in info["years"].split(", ")


def test_decode_vin_normalises_its_input():
    assert decode_vin(" 1hgc m826 33a0 04352 ") == decode_vin(HONDA)


def test_decode_vin_lists_every_year_the_year_code_can_mean():
    years = decode_vin(MCI)["years"].split(", ")
    assert {"2019", "1989"} <= set(years)


@pytest.mark.parametrize("value", ["", "ABC", "113.044-10-012345", "1HGCM82O33A004352", HONDA + "1"])
def test_decode_vin_returns_nothing_for_what_is_not_a_vin(value):
    assert decode_vin(value) == {}


def test_decode_vin_of_an_unknown_manufacturer_is_blank_not_a_placeholder():
    info = decode_vin("ZZZZZZZZZZZZZZZZZ")
    assert info["manufacturer"] == ""
    assert "Unsupported" not in "".join(info.values())
