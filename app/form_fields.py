"""Form fields and form fixes shared by the views: money in major units, ISO currency codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel.numbers import get_currency_name, list_currencies
from flask import abort, has_request_context, jsonify, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.fields import EnumField, QuerySelectField
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from wtforms import BooleanField, DecimalField, SelectField
from wtforms.fields.core import UnboundField
from wtforms.utils import unset_value
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


# -- pickers: relation drop-downs people can tell apart ------------------------------------


def picker_label(obj) -> str:
    """How a picker names a row: clients by name · e-mail · city, cars by stock number ·
    make model year, users by name · user name (``app.domain.sales_flow``)."""
    from app.domain import sales_flow

    kind = type(obj).__name__
    if kind == "Client":
        return sales_flow.client_label(obj.full_name, obj.email, obj.city)
    if kind == "Car":
        return sales_flow.car_label(obj.stock_number, obj.make, obj.model, obj.year)
    if kind == "DealerUser":
        return sales_flow.user_label(obj.first_name, obj.last_name, obj.username)
    return str(obj)


def can_be_picked(obj) -> bool:
    """Deactivated or anonymised users are never offered."""
    if type(obj).__name__ == "DealerUser":
        return bool(obj.active) and obj.deactivated_at is None and obj.anonymised_at is None
    return True


# A picker offering more rows than this searches as the person types (select2 over
# ``<view>/picker/<column>``) instead of listing every row in the page.
PICKER_SEARCH_FROM = 200
PICKER_RESULTS = 20
# The columns a picker searches, by the model it picks from.
PICKER_SEARCH_COLUMNS = {
    "Car": ("stock_number", "vin", "make", "model"),
    "Client": ("first_name", "last_name", "email", "phone", "city"),
    "DealerUser": ("first_name", "last_name", "username"),
}


class FilterPickerSearch(BaseFilter):
    """Rows whose searched columns contain every typed word (case-insensitive)."""

    name = "Picker search"
    arg_name = None

    def apply(self, query, value):
        columns = [getattr(self.model, c) for c in PICKER_SEARCH_COLUMNS.get(self.model.__name__, ())]
        for word in str(value or "").split()[:5]:
            pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "") + "%"
            query = query.filter(or_(*[func.lower(c).like(pattern.lower()) for c in columns]))
        return query


class PickerField(QuerySelectField):
    """FAB's relation drop-down without its ``__None`` value and without choosing the
    first row for a required field: it starts empty ("Choose…") unless the page's URL
    names a row (``?car=12`` on the sale form), which is taken only when it is one of the
    offered (tenant-scoped) rows. The dealer a dealer user's record belongs to is the one
    choice there is, so it is chosen. Rows that cannot be picked stay out, except the
    value a record already has."""

    def __init__(self, *args, count_func=None, lookup_func=None, search_url=None, **kwargs):
        kwargs["allow_blank"] = True
        kwargs.setdefault("blank_text", _l("Choose…"))
        kwargs.setdefault("get_label", picker_label)
        super().__init__(*args, **kwargs)
        self.count_func, self.lookup_func, self._search_url = count_func, lookup_func, search_url
        self._searching: bool | None = None

    @property
    def searching(self) -> bool:
        """Too many rows to list: the page offers the chosen one, select2 searches the rest."""
        if self._searching is None:
            self._searching = bool(self._search_url and self.count_func and self.count_func() > PICKER_SEARCH_FROM)
        return self._searching

    def __call__(self, **kwargs):
        if self.searching:
            kwargs["data-picker-url"] = self._search_url
            kwargs["data-picker-too-short"] = _l("Type to search")
            kwargs["data-picker-searching"] = _l("Searching…")
            kwargs["data-picker-none"] = _l("Nothing found")
        return super().__call__(**kwargs)

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if formdata is None and self._data is None and has_request_context() and request.method == "GET":
            wanted = request.args.get(self.name, "")
            if wanted.isdigit():
                self._formdata = wanted  # resolved against the offered rows only
            elif self.flags.required and self._only_dealer() is not None:
                self._data = self._only_dealer()

    def _only_dealer(self):
        rows = self._get_object_list()
        if len(rows) == 1 and type(rows[0][1]).__name__ == "Dealer":
            return rows[0][1]
        return None

    def _get_object_list(self):
        if self._object_list is None and self.searching:
            # Only the chosen row: the one the record has, or the one sent (if offered).
            found = self._data
            if found is None and self._formdata:
                found = self.lookup_func(self._formdata)
            rows = [found] if found is not None and (can_be_picked(found) or found is self._data) else []
            self._object_list = [(str(self.get_pk_func(obj)), obj) for obj in rows]
        if self._object_list is None:
            current = self._data
            rows = [obj for obj in self.query_func() if can_be_picked(obj) or obj is current]
            self._object_list = [(str(self.get_pk_func(obj)), obj) for obj in rows]
        return self._object_list

    def iter_choices(self):
        yield ("", self.blank_text, self.data is None, {})
        for pk, obj in self._get_object_list():
            yield (pk, self.get_label(obj), obj == self.data, {})

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] in ("", "__None"):
            self.data = None
        else:
            super().process_formdata(valuelist)

    def pre_validate(self, form):
        if self.data is None and not self._formdata:
            return  # empty: DataRequired (a required relation) says so in words
        super().pre_validate(form)


class RelationPickersMixin:
    """Every relation drop-down of a view's add and edit forms is a ``PickerField``; on
    large tables it searches as the person types, through ``picker/<column>`` (the same
    tenant, restriction and form filters as the drop-down). A view opts in with
    ``picker_search = True`` and forms that load ``pickers.js`` (forecourt/picker_form_*.html)."""

    picker_search = False

    def _init_forms(self):
        super()._init_forms()
        for form, kind in ((self.add_form, "add"), (self.edit_form, "edit")):
            for name in dir(form):
                unbound = getattr(form, name, None)
                if isinstance(unbound, UnboundField) and unbound.field_class is QuerySelectField:
                    unbound.field_class = PickerField
                    unbound.kwargs.pop("allow_blank", None)
                    unbound.kwargs.update(self._picker_functions(name, kind))

    def _picker_filters(self, column: str, kind: str, term: str | None = None):
        rel_fields = (self.add_form_query_rel_fields if kind == "add" else self.edit_form_query_rel_fields) or {}
        related = self.datamodel.get_related_interface(column)
        filters = related.get_filters().add_filter_list(rel_fields.get(column, []))
        if term is not None:
            filters.add_filter(related.get_pk_name(), FilterPickerSearch, term)
        return related, filters

    def _picker_functions(self, column: str, kind: str) -> dict:
        related_model = self.datamodel.get_related_model(column)
        if not self.picker_search or related_model.__name__ not in PICKER_SEARCH_COLUMNS:
            return {}

        def count() -> int:
            related, filters = self._picker_filters(column, kind)
            return related.query(filters, page=0, page_size=1)[0]

        def lookup(pk):
            related, filters = self._picker_filters(column, kind)
            return related.get(pk, filters)

        def search_url() -> str:
            return url_for(f"{type(self).__name__}.picker", column=column, kind=kind)

        return {"count_func": count, "lookup_func": lookup, "search_url": _LazyUrl(search_url)}

    @expose("/picker/<kind>/<column>")
    @has_access
    @permission_name("add")
    def picker(self, kind: str, column: str):
        """``{"results": [{"id", "text"}]}``: the rows the form's picker offers whose
        searched columns contain the typed words (``?q=``), at most ``PICKER_RESULTS``."""
        form = self.add_form if kind == "add" else self.edit_form if kind == "edit" else None
        unbound = getattr(form, column, None) if form is not None else None
        if not isinstance(unbound, UnboundField) or "count_func" not in unbound.kwargs:
            abort(404)
        term = (request.args.get("q") or "").strip()[:100]
        related, filters = self._picker_filters(column, kind, term)
        _count, rows = related.query(filters, page=0, page_size=PICKER_RESULTS)
        results = [{"id": str(related.get_pk_value(row)), "text": picker_label(row)} for row in rows if can_be_picked(row)]
        return jsonify({"results": results})


class _LazyUrl:
    """A URL built when the page is rendered (the view's endpoint is known by then)."""

    def __init__(self, build) -> None:
        self.build = build

    def __str__(self) -> str:
        return self.build()
