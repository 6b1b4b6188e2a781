"""Display formatting in the active locale and time zone; storage stays in minor units
and UTC, and machine-readable output (API JSON, export CSV/JSON) never comes through here.

The locale and the time zone are the request's (``app.i18n.web``: the user's language, the
dealer's time zone) or the ones a job forces for its recipient.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask_babel import format_currency, format_decimal, format_timedelta
from flask_babel import format_date as _format_date
from flask_babel import format_datetime as _format_datetime
from flask_babel import format_time as _format_time

from app.domain.money import from_minor, normalise_currency


def format_money(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return ""
    currency = normalise_currency(currency)  # babel only knows "EUR", not "eur"
    return format_currency(from_minor(minor, currency), currency)


def _aware(value: datetime) -> datetime:
    """Stored datetimes are UTC; a naive one (SQLite) is read as UTC, never as local time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """Date and time in the user's time zone, e.g. ``05.03.2024, 16:30:00`` in Kyiv (de)."""
    return "" if value is None else _format_datetime(_aware(value), format)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    """A date; a datetime gives the date it is in the user's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value)
    return _format_date(value, format)


def format_time(value: datetime | None, format: str = "short") -> str:
    return "" if value is None else _format_time(_aware(value), format)


def format_number(value: float | Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """``3 days ago`` / ``in 2 hours`` / ``vor 3 Tagen`` / ``3 дні тому``."""
    if value is None:
        return ""
    now = _aware(now) if now is not None else datetime.now(UTC)
    return format_timedelta(_aware(value) - now, granularity="minute", add_direction=True)


def format_duration(value: timedelta | None) -> str:
    """A length of time, rounded to its largest unit: ``3 hours``, ``2 Tage``, ``5 хвилин``."""
    return "" if value is None else format_timedelta(value, threshold=1)
