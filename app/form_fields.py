"""Form fields and form fixes shared by the views: money in major units, ISO currency codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel.numbers import get_currency_name, list_currencies
from flask_appbuilder.fields import EnumField
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "PLN", "CZK", "SEK", "DKK", "NOK", "HUF", "RON", "UAH"]


def _currency_choices() -> list[tuple[str, str]]:
    """ISO codes with their names in the reader's language (a callable: per request)."""
    return _currency_choices_in(str(get_locale() or "en"))


@cache
def _currency_choices_in(locale: str) -> list[tuple[str, str]]:
    rest = sorted(c for c in list_currencies() if c not in COMMON_CURRENCIES)
    return [(c, f"{c} · {get_currency_name(c, locale=locale)}") for c in COMMON_CURRENCIES + rest]


def currency_field(label=None):
    return SelectField(label or _l("Currency"), choices=_currency_choices, default="EUR", widget=Select2Widget())


class TypedDecimalField(DecimalField):
    """A decimal as a person types it in their language (``app.domain.numbers``):
    ``12 500,00`` and ``12.500,00`` in de and uk, ``12,500.00`` in en, ``12500.00`` in all."""

    def process_formdata(self, valuelist) -> None:
        from app.domain import DomainError
        from app.domain.numbers import parse_number

        if not valuelist:
            return
        self.raw_data = valuelist
        try:
            self.data = parse_number(valuelist[0], str(get_locale() or "en"), self.name)
        except DomainError as error:
            self.data = None
            raise ValueError(str(error.message))

    def pre_validate(self, form) -> None:
        if self.process_errors:  # one clear message, not also "must be at least 0"
            raise StopValidation()


def money_field(label, required: bool = False):
    return TypedDecimalField(
        label,
        places=2,
        validators=[Optional() if not required else NumberRange(min=0), NumberRange(min=0)],
        widget=BS3TextFieldWidget(),
        description=_l("In the currency above, e.g. 10499.50"),
    )


def _enum_pre_validate(self, form) -> None:
    """FAB's EnumField raises ValueError (a 500 under WTForms 3) for an empty or unknown
    choice; an optional enum may be empty, and a bad choice is a form error."""
    if self.data is None and not self.flags.required:
        return
    if any(self.data == self.coerce(value) for value, _ in self.choices):
        return
    raise ValidationError(self.gettext("Not a valid choice"))


EnumField.pre_validate = _enum_pre_validate


class OptionalCheckboxesMixin:
    """FAB makes a NOT NULL column's field required, which for a checkbox means it must
    be ticked; an unticked box is a valid False."""

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            for name in dir(form):
                unbound = getattr(form, name, None)
                if isinstance(unbound, UnboundField) and issubclass(unbound.field_class, BooleanField):
                    kept = [v for v in unbound.kwargs.get("validators") or [] if not isinstance(v, (DataRequired, InputRequired))]
                    unbound.kwargs["validators"] = kept


class DomainRule:
    """A domain rule (``rule(value, field_name)`` raising ``DomainError``) as a WTForms
    validator, so a person sees the error next to the field with everything typed kept."""

    def __init__(self, rule: Callable[[str | None, str], object]) -> None:
        self.rule = rule

    def __call__(self, form, field) -> None:
        from app.domain import DomainError

        try:
            self.rule(field.data, field.name)
        except DomainError as error:
            raise ValidationError(str(error.message))


def single_line_validators(*names: str) -> dict[str, list]:
    """``validators_columns`` for text fields that must stay on one line (they reach
    e-mail subjects)."""
    from app.domain.text import single_line

    return {name: [DomainRule(single_line)] for name in names}


class ValidVin:
    """Inline VIN check on the car form (format, check digit, legacy flag), so a person
    sees the error next to the field with everything typed kept."""

    def __call__(self, form, field) -> None:
        from app.domain.vin import check_vin

        year = form.year.data if "year" in form else None
        legacy = bool(form.legacy_chassis_number.data) if "legacy_chassis_number" in form else False
        result = check_vin(field.data, year, legacy)
        if result.errors:
            raise ValidationError(result.errors[0])
