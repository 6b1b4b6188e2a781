"""Numbers, amounts and dates the way a person types them, in their language.

One set of rules for the forms (``app.form_fields.money_field``) and for imports
(``app.workbench.importing``):

- digits may be grouped by spaces (also the no-break spaces de/uk put there), by the
  language's group separator, and in the languages that write a decimal comma (de, uk)
  also by dots: ``12 500,00``, ``12.500,00`` and ``12500,00`` are the same amount in de
  and uk; ``12,500.00`` and ``12 500.00`` in en;
- a group after the first has exactly three digits (``1.2345`` is a typo, not a number);
- ``10499.50`` (a point and one or two decimals, how a form shows a stored amount) is read
  the same in every language;
- anything else, e.g. ``12.500,00`` in en, is refused with the language named.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.dates import parse_date as babel_parse_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask_babel import lazy_gettext as _l

from app.domain import DomainError
from app.domain.money import to_minor

SPACES = " \u00a0\u202f\u2009"  # space, no-break, narrow no-break, thin
_CANONICAL = re.compile(r"^-?\d+(\.\d{1,2})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def _symbols(locale: str) -> tuple[str, str]:
    try:
        return get_decimal_symbol(locale), get_group_symbol(locale)
    except (ValueError, TypeError):  # an unknown locale reads as English
        return ".", ","


@cache
def _grouped(separators: str, decimal_symbol: str) -> re.Pattern[str]:
    seps = "".join(re.escape(s) for s in dict.fromkeys(separators))
    return re.compile(rf"^-?(\d+|\d{{1,3}}([{seps}]\d{{3}})+)({re.escape(decimal_symbol)}\d+)?$")


def parse_number(value: str | float | Decimal | None, locale: str, field: str | None = None) -> Decimal | None:
    """``value`` as a ``Decimal`` (None when empty), or ``DomainError`` naming the language."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_number(str(value), locale, field)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = value.strip()
    if not text:
        return None
    decimal_symbol, group_symbol = _symbols(locale)
    if _CANONICAL.match(text):
        return Decimal(text)
    separators = SPACES + group_symbol + ("." if decimal_symbol == "," else "")
    if _grouped(separators, decimal_symbol).match(text):
        plain = text
        for sep in dict.fromkeys(separators):
            plain = plain.replace(sep, "")
        try:
            return Decimal(plain.replace(decimal_symbol, "."))
        except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
            pass
    raise _not_a_number(text, locale, field)


def _not_a_number(text: str, locale: str, field: str | None) -> DomainError:
    try:
        example = format_decimal(Decimal("12500.00"), format="#,##0.00", locale=locale)
    except (ValueError, TypeError):
        example = "12,500.00"
    return DomainError(
        _l("'%(value)s' is not a number in %(language)s; write it like %(example)s.", value=text, language=locale, example=example),
        field,
    )


def format_example_amount(value: object, locale: str) -> str:
    """An amount as a person in ``locale`` writes it (12.500,00 in de), for templates."""
    if value in (None, ""):
        return ""
    return format_decimal(Decimal(str(value)), format="#,##0.00", locale=locale)


def parse_amount(value: str | float | Decimal | None, currency: str, locale: str, field: str = "price") -> int | None:
    """A typed amount in major units to minor units of ``currency`` (None when empty)."""
    try:
        number = parse_number(value, locale, field)
    except DomainError as error:
        text = str(value).strip()
        raise DomainError(_l("'%(value)s' is not an amount in %(language)s.", value=text, language=locale), field) from error
    try:
        return to_minor(number, currency)
    except DomainError as error:
        raise DomainError(error.message, field) from error


def parse_whole_number(value: str | float | Decimal | None, locale: str, field: str) -> int | None:
    """A whole number (mileage, year) typed with or without grouping (None when empty)."""
    number = parse_number(value, locale, field)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise DomainError(_l("'%(value)s' is not a whole number.", value=str(value).strip()), field)
    return int(number)


def parse_day(value: str | date | None, locale: str, field: str) -> date | None:
    """A date as ISO (2026-12-07) or in the language's short form (07.12.2026 in de)."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        return babel_parse_date(text, locale=locale)
    except (ValueError, IndexError, TypeError):
        raise DomainError(_l("'%(value)s' is not a date in %(language)s.", value=text, language=locale), field)
