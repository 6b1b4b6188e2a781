"""Display formatting in the user's locale; storage stays in minor units and UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import format_currency
from flask_babel import format_date as _format_date
from flask_babel import format_datetime as _format_datetime

from app.domain.money import from_minor, normalise_currency


def format_money(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return ""
    currency = normalise_currency(currency)  # babel only knows "EUR", not "eur"
    return format_currency(from_minor(minor, currency), currency)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _format_datetime(value, "medium")


def format_date(value: date | None) -> str:
    return "" if value is None else _format_date(value, "medium")
