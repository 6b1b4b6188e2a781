"""Money: integer minor units plus an ISO 4217 code; never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import cast

from babel.numbers import get_currency_precision, list_currencies
from flask_babel import lazy_gettext as _l

from app.domain import DomainError

_CURRENCIES = frozenset(list_currencies())
_WHITESPACE = re.compile(r"\s+")  # also the no-break spaces that de/uk use to group digits
# A form shows amounts with two decimals (e.g. "1000.00" for JPY); more decimals than
# both that and the currency allows is rejected even when they are zeros, because
# "12.500" or "12,500" is far more often twelve thousand five hundred than 12.50.
_FORM_DECIMALS = 2


def is_currency(code: str | None) -> bool:
    return code is not None and code.upper() in _CURRENCIES


def normalise_currency(code: str | None) -> str:
    code = (code or "").strip().upper()
    if not is_currency(code):
        raise DomainError(_l("'%(code)s' is not an ISO 4217 currency code.", code=code), "currency")
    return code


def exponent(currency: str) -> int:
    """Decimal places of ``currency``; ``DomainError`` for a code that is not ISO 4217.

    babel answers 2 for any code it does not know, and is case-sensitive, so the
    code is normalised first ("jpy" must give 0, not 2).
    """
    return get_currency_precision(normalise_currency(currency))


def to_minor(amount: Decimal | str | int | None, currency: str) -> int | None:
    """A decimal amount in major units ("10499.50") to minor units (1049950)."""
    if amount is None or amount == "":
        return None
    currency = normalise_currency(currency)
    places = exponent(currency)
    try:
        value = Decimal(_WHITESPACE.sub("", str(amount)).replace(",", "."))
    except InvalidOperation:
        raise DomainError(_l("Enter an amount such as 10499.50."), "price")
    if not value.is_finite():  # NaN, sNaN, Infinity: Decimal accepts them
        raise DomainError(_l("Enter an amount such as 10499.50."), "price")
    if value < 0:
        raise DomainError(_l("An amount cannot be negative."), "price")
    scaled = value.scaleb(places)
    digits_after_point = max(0, -cast(int, value.as_tuple().exponent))  # finite: an int
    if scaled != scaled.to_integral_value() or digits_after_point > max(places, _FORM_DECIMALS):
        raise DomainError(_l("%(currency)s has %(n)s decimal places.", currency=currency, n=places), "price")
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int | None, currency: str) -> Decimal | None:
    if minor is None:
        return None
    return Decimal(minor).scaleb(-exponent(currency))
