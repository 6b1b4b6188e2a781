"""Form fields shared by the views: money in major units, ISO currency codes."""

from __future__ import annotations

from babel.numbers import get_currency_name, list_currencies
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, SelectField
from wtforms.validators import NumberRange, Optional

COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "PLN", "CZK", "SEK", "DKK", "NOK", "HUF", "RON", "UAH"]


def _currency_choices():
    rest = sorted(c for c in list_currencies() if c not in COMMON_CURRENCIES)
    return [(c, f"{c} · {get_currency_name(c, locale='en')}") for c in COMMON_CURRENCIES + rest]


def currency_field(label=None):
    return SelectField(label or _l("Currency"), choices=_currency_choices(), default="EUR", widget=Select2Widget())


def money_field(label, required: bool = False):
    return DecimalField(
        label,
        places=2,
        validators=[Optional() if not required else NumberRange(min=0), NumberRange(min=0)],
        widget=BS3TextFieldWidget(),
        description=_l("In the currency above, e.g. 10499.50"),
    )
