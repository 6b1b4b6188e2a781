"""Find anything fast, for every list: the quick search, the active filters as removable
chips, the visible columns and the saved views of the list (``FindingMixin``).

The rules live in ``app.domain.finding`` (query, chips, list state) and
``app.models.finding`` (the SQL condition); this module wires them into FAB's list.
The quick search joins the view's base filters, so the tenant and restriction filters
always apply, and FAB's paging and sorting links keep it (they copy the query string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import has_request_context, request, url_for
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from sqlalchemy import types as sa_types
from werkzeug.exceptions import BadRequest

from app.domain import DomainError
from app.domain.enum_labels import label_of_value
from app.domain.finding import (
    COLUMNS,
    EMAIL,
    PHONE,
    QUICK_SEARCH,
    TEXT,
    VIN,
    ListSpec,
    QuickQuery,
    active_chips,
    parse_quick_query,
    visible_columns,
)
from app.extensions import db
from app.models.finding import quick_search_condition
from app.models.saved_views import views_for
from app.signed_in import current_user


class FilterCondition(BaseFilter):
    """Applies a ready SQL condition (the quick search) as one more filter."""

    name = "Quick search"
    arg_name = None

    def apply(self, query, value):
        return query.filter(value)


def default_quick_columns(datamodel, search_columns) -> dict[str, str]:
    """The text columns among a list's search columns, each matched by its kind."""
    columns = {}
    for name in search_columns or []:
        if datamodel.is_relation(name) or name not in datamodel.list_columns:
            continue
        column_type = datamodel.list_columns[name].type
        if isinstance(column_type, sa_types.Enum) or not isinstance(column_type, sa_types.String | sa_types.Text):
            continue
        columns[name] = VIN if name == "vin" else EMAIL if "email" in name else PHONE if "phone" in name else TEXT
    return columns


@dataclass
class FinderRequest:
    query: QuickQuery = field(default_factory=QuickQuery)
    error: str | None = None
    columns: tuple[str, ...] = ()


@dataclass
class ChipView:
    label: str
    href: str


@dataclass
class Finder:
    """What the list page shows above the list (``lists/_quick_search.html``)."""

    view_name: str
    query: str
    error: str | None
    hint: str
    keep: list[tuple[str, str]]
    chips: list[ChipView]
    columns: list[tuple[str, str, bool]]
    keep_for_columns: list[tuple[str, str]]
    saved_views: list[Any]
    can_save: bool
    can_share: bool
    current_query: str
    list_url: str


class FindingMixin:
    """Quick search, chips, columns and saved views for a FAB ``ModelView``'s list."""

    list_template = "lists/list.html"
    # Column (dotted through a many-to-one relation) → kind of ``app.domain.finding``;
    # None: the text columns of ``search_columns``.
    quick_search_columns: dict[str, str] | None = None

    def quick_columns(self) -> dict[str, str]:
        if self.quick_search_columns is not None:
            return dict(self.quick_search_columns)
        return default_quick_columns(self.datamodel, self.search_columns)

    def list_spec(self) -> ListSpec:
        counts = {name: len(found) for name, found in self._filters.get_search_filters().items()}
        return ListSpec(self.__class__.__name__, counts, frozenset(self.order_columns), tuple(self.list_columns))

    # ------------------------------------------------------------------ FAB's list

    def _list(self, **kwargs):
        if not has_request_context():
            return super()._list(**kwargs)
        finder = self._finder_request()
        widgets = super()._list(finder=finder, **kwargs)
        widgets["finder"] = self._finder(finder)
        return widgets

    def _get_list_widget(
        self, filters, actions=None, order_column="", order_direction="", page=None, page_size=None, widgets=None, finder=None, **kwargs
    ):
        if finder is None:  # a related list on a show page: FAB's own
            return super()._get_list_widget(
                filters, actions, order_column, order_direction, page=page, page_size=page_size, widgets=widgets, **kwargs
            )
        widgets = widgets or {}
        actions = actions or self.actions
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined = filters.get_joined_filters(self._base_filters)
        condition = quick_search_condition(self.datamodel.obj, self.quick_columns(), finder.query)
        if condition is not None:
            joined.add_filter(self.datamodel.get_pk_name(), FilterCondition, condition)
        count, rows = self.datamodel.query(joined, order_column, order_direction, page=page, page_size=page_size)
        pks = [self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(rows)]
        columns = list(finder.columns)
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns,
            include_columns=columns,
            value_columns=self.datamodel.get_values(rows, columns),
            order_columns=self.order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            pks=pks,
            actions=actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            **kwargs,
        )
        return widgets

    # ------------------------------------------------------------------ the finder

    def _finder_request(self) -> FinderRequest:
        columns = visible_columns(",".join(request.args.getlist(COLUMNS)), self.list_columns)
        try:
            query = parse_quick_query(request.args.get(QUICK_SEARCH))
        except DomainError as exc:
            return FinderRequest(error=str(exc.message), columns=columns)
        return FinderRequest(query=query, columns=columns)

    def _finder(self, finder: FinderRequest) -> Finder:
        name = self.__class__.__name__
        pairs = list(request.args.items(multi=True))
        page_key = f"page_{name}"
        list_url = url_for(f"{self.endpoint}.list")
        operations = {col: [str(f.name) for f in found] for col, found in self._filters.get_search_filters().items()}
        chips = [
            ChipView(self._chip_label(chip), list_url + ("?" + urlencode(chip.remove_query) if chip.remove_query else ""))
            for chip in active_chips(pairs, operations, name)
        ]
        user = current_user()
        sm = self.appbuilder.sm
        saved = views_for(db.session, user.id, getattr(user, "dealer_id", None), name) if user is not None else []
        current = [(k, v) for k, v in pairs if not k.startswith(page_key)]
        return Finder(
            view_name=name,
            query=request.args.get(QUICK_SEARCH, "") if finder.error is None else "",
            error=finder.error,
            hint=self._quick_hint(),
            keep=[(k, v) for k, v in current if k != QUICK_SEARCH],
            chips=chips,
            columns=[(c, str(self.label_columns.get(c, c)), c in finder.columns) for c in self.list_columns],
            keep_for_columns=[(k, v) for k, v in current if k != COLUMNS],
            saved_views=saved,
            can_save=user is not None and sm.has_access("can_save", "SavedViewsView"),
            can_share=getattr(user, "dealer_id", None) is not None,
            current_query=urlencode(current),
            list_url=list_url,
        )

    def _quick_hint(self) -> str:
        labels: list[str] = []
        for name in self.quick_columns():
            label = str(self.label_columns.get(name) or self.label_columns.get(name.partition(".")[0]) or name)
            if label not in labels:
                labels.append(label)
        return _("Search by %(fields)s", fields=", ".join(labels))

    def _chip_label(self, chip) -> str:
        if chip.column is None:
            return _("Search: %(text)s", text=chip.value)
        label = str(self.label_columns.get(chip.column, chip.column))
        if self.datamodel.is_relation(chip.column) and chip.key.startswith("_flt_0_"):  # FAB's "Relation": equal to
            return _("%(column)s: %(value)s", column=label, value=self._chip_value(chip))
        return _("%(column)s %(operation)s: %(value)s", column=label, operation=chip.operation.lower(), value=self._chip_value(chip))

    def _chip_value(self, chip) -> str:
        """What the filter value reads as: a related record by its name (only one the user
        may see), an enum by its label, true/false as yes/no."""
        column, value = chip.column, chip.value
        datamodel = self.datamodel
        try:
            if datamodel.is_relation(column):
                related = datamodel.get_related_interface(column)
                scope = getattr(self, "search_form_query_rel_fields", None) or {}
                item = related.get(value, related.get_filters().add_filter_list(scope.get(column, [])))
                return str(item) if item is not None else value
            column_type = datamodel.list_columns[column].type if column in datamodel.list_columns else None
            if isinstance(column_type, sa_types.Enum) and column_type.enum_class is not None:
                return str(label_of_value(column_type.enum_class, value))
            if isinstance(column_type, sa_types.Boolean):
                return _("Yes") if value.strip().lower() in ("y", "yes", "true", "1", "on") else _("No")
        except BadRequest:  # a value the database refuses (the interface rolled back): as typed
            pass
        return value
