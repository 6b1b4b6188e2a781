"""The data interface of every Forecourt view and API: what a URL can ask for (an id, a
page, a sort column, a filter value) never reaches the database as an error.

FAB's ``SQLAInterface`` passes URL values straight into SQL: an id past 64 bits overflows
SQLite, a text id or an unknown enum value breaks a PostgreSQL transaction, a sort on a
Python property or an unknown column fails to compile, a negative page is a negative
OFFSET. ``ForecourtInterface`` answers such requests as "no such row" (ids), "no
ordering" (sort), a clamped page, or a ``BadInput`` (HTTP 400 with a translated message)
for values the database refuses. Models may declare ``__sort_keys__`` to sort a computed
column (``Client.full_name`` by last and first name, ``Car.days_in_stock`` by a SQL
expression).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.sqla import filters as fab_filters
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sa_types
from werkzeug.exceptions import BadRequest

MAX_BIGINT = 2**63 - 1
MAX_INTEGER = 2**31 - 1
MAX_OFFSET = 2**62  # an OFFSET (page * size) every database accepts


class BadInput(BadRequest):
    """A value from the request that the database refuses: 400, nothing changed.

    ``str()`` is the message alone: FAB's ``@safe`` answers ``response_400(str(exc))``."""

    def __str__(self) -> str:
        return str(self.description)


def bad_input_message() -> str:
    return gettext("A value in this request is not valid (out of range or not one of the allowed values).")


def is_bad_input(exc: BaseException) -> bool:
    """Errors that a request's values cause in the database layer, never a bug or an outage."""
    if isinstance(exc, OverflowError | sa_exc.DataError):
        return True
    if isinstance(exc, sa_exc.StatementError) and not isinstance(exc, sa_exc.DBAPIError):
        return isinstance(exc.orig, LookupError | ValueError | OverflowError | TypeError)
    return False


def int_range(column_type: Any) -> tuple[int, int] | None:
    """The values an integer column holds on every supported database (None: not integer)."""
    if isinstance(column_type, sa_types.BigInteger):
        return -MAX_BIGINT - 1, MAX_BIGINT
    if isinstance(column_type, sa_types.Integer):
        return -MAX_INTEGER - 1, MAX_INTEGER
    return None


def as_row_id(value: Any, limit: int = MAX_BIGINT) -> int | None:
    """``value`` as an integer id, or None when no row can have it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            return None
    return number if -limit - 1 <= number <= limit else None


TRUE_WORDS = frozenset({"y", "yes", "true", "1", "on"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "off", ""})


def as_boolean(value: Any) -> bool:
    """A filter value for a true/false column; anything else is bad input (FAB passes it
    on as text, which PostgreSQL refuses to compare with a boolean)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadInput(gettext("A true/false filter takes yes or no."))


class FilterBooleanEqual(fab_filters.FilterEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field == as_boolean(value))


class FilterBooleanNotEqual(fab_filters.FilterNotEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field != as_boolean(value))


class ForecourtFilterConverter(fab_filters.SQLAFilterConverter):
    """FAB's filters, with true/false columns read strictly."""

    conversion_table = tuple(
        ("is_boolean", [FilterBooleanEqual, FilterBooleanNotEqual]) if test == "is_boolean" else (test, filters)
        for test, filters in fab_filters.SQLAFilterConverter.conversion_table
    )


class ForecourtInterface(SQLAInterface):
    """``SQLAInterface`` that turns impossible ids, sorts and pages into safe answers."""

    filter_converter_class = ForecourtFilterConverter

    # ------------------------------------------------------------------ single rows

    def get(self, id: Any, filters=None, select_columns=None, outer_default_load: bool = False):
        if not self.is_pk_composite():
            bounds = int_range(self.list_columns[self.get_pk_name()].type)
            if bounds is not None:
                id = as_row_id(id, bounds[1])
                if id is None:
                    return None
        with self._refusing_bad_input():
            return super().get(id, filters, select_columns=select_columns, outer_default_load=outer_default_load)

    # ------------------------------------------------------------------ lists

    def query(self, *args: Any, **kwargs: Any):
        with self._refusing_bad_input():
            return super().query(*args, **kwargs)

    def get_order_columns_list(self, list_columns: list[str] | None = None) -> list[str]:
        """FAB offers Python properties as sortable; only SQL columns and sort keys are."""
        sort_keys = self._sort_keys()
        sortable = set(super().get_order_columns_list(list_columns))
        return [
            name
            for name in list_columns or self.get_columns_list()
            if name in sort_keys or (name in sortable and not isinstance(getattr(self.obj, name, None), property))
        ]

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None, bypass_many_to_many=False, add_pk=False):
        direction = order_direction if order_direction in ("asc", "desc") else "asc"
        keys = self._sort_keys().get(order_column)
        if keys:
            columns = [getattr(self.obj, key) for key in keys]
            return query.order_by(*[c.desc() if direction == "desc" else c.asc() for c in columns])
        if order_column and not self._is_sortable(order_column):
            order_column = ""  # an unknown or computed column: keep the rows unordered
        return super().apply_order_by(
            query, order_column, direction, aliases_mapping=aliases_mapping, bypass_many_to_many=bypass_many_to_many, add_pk=add_pk
        )

    def apply_pagination(self, query, page, page_size):
        if page_size is not None and page_size < 1:
            page_size = 1
        if page is not None:
            page = min(max(page, 0), MAX_OFFSET // (page_size or 1))
        return super().apply_pagination(query, page, page_size)

    # ------------------------------------------------------------------ helpers

    def _sort_keys(self) -> dict[str, tuple[str, ...]]:
        return getattr(self.obj, "__sort_keys__", {}) or {}

    def _is_sortable(self, name: str) -> bool:
        if name in self._sort_keys():
            return True
        if "." not in name:
            return name in self.list_columns and not self.is_relation(name)
        root, _, rest = name.partition(".")
        if "." in rest or not self.is_relation(root):
            return False
        related = self.get_related_model(root)
        return rest in related.__mapper__.columns

    def _refusing_bad_input(self):
        return _RefuseBadInput(self.session)


class _RefuseBadInput:
    """Roll back and raise ``BadInput`` for the errors ``is_bad_input`` recognises."""

    def __init__(self, session) -> None:
        self.session = session

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and is_bad_input(exc):
            self.session.rollback()
            raise BadInput(bad_input_message()) from exc
        return False
