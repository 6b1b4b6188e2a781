"""Money: integer minor units plus an ISO 4217 code; never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies
from flask_babel import lazy_gettext as _l

from app.domain import DomainError

_CURRENCIES = frozenset(list_currencies())


def is_currency(code: str | None) -> bool:
    return bool(code) and code.upper() in _CURRENCIES


def normalise_currency(code: str | None) -> str:
    code = (code or "").strip().upper()
    if not is_currency(code):
        raise DomainError(_l("'%(code)s' is not an ISO 4217 currency code.", code=code), "currency")
    return code


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: Decimal | str | int | None, currency: str) -> int | None:
    """A decimal amount in major units ("10499.50") to minor units (1049950)."""
    if amount is None or amount == "":
        return None
    try:
        value = Decimal(str(amount).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise DomainError(_l("Enter an amount such as 10499.50."), "price")
    if value < 0:
        raise DomainError(_l("An amount cannot be negative."), "price")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise DomainError(
            _l("%(currency)s has %(n)s decimal places.", currency=currency, n=exponent(currency)), "price"
        )
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int | None, currency: str) -> Decimal | None:
    if minor is None:
        return None
    return Decimal(minor).scaleb(-exponent(currency))
