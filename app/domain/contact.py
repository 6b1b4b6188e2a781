"""Phone numbers (stored E.164), emails (stored lower-case), countries (ISO 3166)."""

from __future__ import annotations

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from app.domain import DomainError


def normalise_phone(value: str | None, default_region: str | None = None) -> str | None:
    """Parse a phone number as typed and return it in E.164, or raise ``DomainError``."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, (default_region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise DomainError(_l("Enter the phone number with its country code, e.g. +49 30 1234567."), "phone")
    if not phonenumbers.is_valid_number(number):
        raise DomainError(_l("This phone number is not valid."), "phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_l("Enter a valid email address."), "email")
    return result.normalized.lower()


def normalise_country(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if pycountry.countries.get(alpha_2=value) is None:
        raise DomainError(_l("Use a two-letter ISO 3166 country code, e.g. DE."), "country")
    return value
