"""Display formatting in the user's locale; storage stays in minor units and UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask_babel import format_currency, format_date as _format_date
from flask_babel import format_datetime as _format_datetime

from app.domain.money import from_minor


def format_money(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return ""
    return format_currency(from_minor(minor, currency), currency)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return _format_datetime(value, "medium")


def format_date(value: date | None) -> str:
    return "" if value is None else _format_date(value, "medium")
