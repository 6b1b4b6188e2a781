"""Lists, show pages and forms in the reader's language: enum values as translated labels,
dates and times in the locale (and the dealer's time zone), yes/no for booleans, and
nothing (not "None") for empty values.

``localise_views`` runs over every registered view once they are all added (FAB's own
user and role screens too); a view keeps any formatter it declares itself.
``tests/test_translations.py`` checks that every view shows a translatable label for
every column.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from flask_appbuilder.baseviews import BaseCRUDView
from flask_appbuilder.fields import EnumField
from flask_babel import lazy_gettext as _l
from sqlalchemy import types as sa_types
from wtforms.fields.core import UnboundField

from app.domain.enum_labels import choices, label_of_value
from app.domain.formatting import format_date, format_datetime

YES = _l("Yes")
NO = _l("No")


def _blank_if_none(value: Any) -> Any:
    return "" if value is None else value


def _yes_no(value: Any) -> str:
    if value is None:
        return ""
    return str(YES if value else NO)


def _enum_formatter(enum_class: type[enum.Enum]) -> Callable[[Any], str]:
    def label(value: Any) -> str:
        return label_of_value(enum_class, value)

    return label


def _column_type(column: Any) -> Any:
    kind = getattr(column, "type", None)
    return kind.impl if isinstance(kind, sa_types.TypeDecorator) else kind


def column_formatter(column: Any) -> Callable[[Any], Any]:
    """How a mapped column's value is shown (by its SQL type)."""
    kind = _column_type(column)
    if isinstance(kind, sa_types.Enum) and kind.enum_class is not None:
        return _enum_formatter(kind.enum_class)
    if isinstance(kind, sa_types.DateTime):
        return format_datetime
    if isinstance(kind, sa_types.Date):
        return format_date
    if isinstance(kind, sa_types.Boolean):
        return _yes_no
    return _blank_if_none


class TranslatedEnumField(EnumField):
    """FAB's enum select with translated labels (the submitted value stays the name)."""

    def __init__(self, enum_class, enums, **kwargs):
        super().__init__(enum_class, enums, **kwargs)
        if enum_class is not None:
            labels = dict(choices(enum_class))
            self.choices = [(name, labels.get(name, name)) for name, _label in self.choices]


def translate_enum_fields(form_class: type | None) -> None:
    """Swap FAB's ``EnumField`` for :class:`TranslatedEnumField` on a generated form."""
    if form_class is None:
        return
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField) and unbound.field_class is EnumField:
            setattr(form_class, name, UnboundField(TranslatedEnumField, *unbound.args, **unbound.kwargs))


def localise_view(view: Any) -> None:
    """Give a CRUD view a formatter for every shown column it does not format itself, and
    enum selects with translated labels on its add, edit and search forms."""
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None or getattr(view, "localised", False):
        return
    mapped = getattr(datamodel, "list_columns", {})  # the model's columns by name
    shown = set(getattr(view, "list_columns", None) or []) | set(getattr(view, "show_columns", None) or [])
    for _title, fieldset in getattr(view, "show_fieldsets", None) or []:
        shown |= set(fieldset.get("fields", []))
    formatters = dict(getattr(view, "formatters_columns", None) or {})  # a copy: views share class dicts
    for name in shown - set(formatters):
        column = mapped.get(name)
        formatters[name] = column_formatter(column) if column is not None else _blank_if_none
    view.formatters_columns = formatters
    for form_class in (getattr(view, "add_form", None), getattr(view, "edit_form", None), getattr(view, "search_form", None)):
        translate_enum_fields(form_class)
    _translate_default_titles(view)
    view.localised = True


# FAB's words for a view that names no title of its own ("Show Car Cost" is English only).
_DEFAULT_TITLES = {"show_title": _l("Show record"), "add_title": _l("Add a new record"), "edit_title": _l("Edit record")}


def _translate_default_titles(view: Any) -> None:
    for attr, title in _DEFAULT_TITLES.items():
        if isinstance(getattr(view, attr, None), str):  # FAB's generated default, not a lazy string
            setattr(view, attr, title)


def localise_views(appbuilder: Any) -> None:
    """Every registered CRUD view (related views are the same instances); not the REST
    APIs, whose output stays machine-readable."""
    for view in appbuilder.baseviews:
        if isinstance(view, BaseCRUDView):
            localise_view(view)
