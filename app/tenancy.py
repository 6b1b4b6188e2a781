"""Tenancy: who the current dealer is, and the tenant-scoped base classes.

Every dealer-facing view and API inherits ``TenantModelView`` / ``TenantModelRestApi``:
lists and single rows are filtered by the user's dealer (FAB ``base_filters``),
``dealer_id`` is stamped on create and cannot change, relation drop-downs are scoped,
and actions re-check the tenant because FAB's ``action``/``action_post`` skip
``base_filters``. Another dealer's row is a 404, never a 403.

Restricted rows (GDPR Art. 18) are hidden and kept read-only by the filters and checks
of ``app.restriction``, which these base classes apply too.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, has_request_context, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.api import expose as expose_api
from flask_appbuilder.api import protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l

from app.change_history import history_of
from app.datamodel import as_row_id
from app.domain import DomainError
from app.domain.tenancy import TenantViolation, check_tenant_references
from app.extensions import db
from app.finding import FindingMixin
from app.form_fields import OptionalCheckboxesMixin, RelationPickersMixin
from app.list_exporting import ListExportApiMixin, ListExportViewMixin
from app.list_priority import PriorityColumnsMixin
from app.models.history import is_tracked
from app.models.rules import refuse_deleting_referenced
from app.record_names import NamedRecordsMixin
from app.rest import ForecourtModelRestApi
from app.restriction import is_restrictable, refuse_restricted, refuse_restricted_references, restriction_filters
from app.saving import refused_forms_rolled_back
from app.signed_in import current_user

NO_DEALER = -1  # matches no row: a dealer role without a dealer sees nothing


def is_dealer_user(user: Any | None) -> bool:
    """A user bound to a dealer, or holding a dealer role: always tenant-scoped."""
    from app.domain.grants import DEALER_ROLES

    if user is None:
        return True
    if getattr(user, "dealer_id", None) is not None:
        return True
    return any(role.name in DEALER_ROLES for role in getattr(user, "roles", []))


def current_dealer_id() -> int | None:
    """The dealer whose data the current user may see; None for internal staff."""
    user = current_user()
    if not is_dealer_user(user):
        return None
    return getattr(user, "dealer_id", None) or NO_DEALER


class FilterTenant(BaseFilter):
    """``column == current dealer`` for dealer users; no filter for internal staff."""

    name = "Tenant"
    arg_name = None

    def apply(self, query, value):
        dealer_id = current_dealer_id()
        if dealer_id is None:
            return query
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field == dealer_id)


def tenant_filters(column: str = "dealer_id") -> list[list[Any]]:
    return [[column, FilterTenant, None]]


def _scoped_relations(datamodel: SQLAInterface, columns: list[str]) -> dict[str, list]:
    """Relation drop-downs limited to the user's dealer, for every dealer-owned target."""
    scoped = {}
    for name in columns:
        if not datamodel.is_relation(name):
            continue
        target = datamodel.get_related_model(name)
        if target.__tablename__ == "dealer":
            scoped[name] = tenant_filters("id")
        elif hasattr(target, "dealer_id"):
            scoped[name] = tenant_filters("dealer_id")
        if is_restrictable(target):
            scoped[name] = scoped.get(name, []) + restriction_filters()
    return scoped


def prepare_for_write(item: Any, is_new: bool) -> None:
    """Stamp the tenant on create, refuse a change of tenant, check every reference."""
    dealer_id = current_dealer_id()
    if is_new and dealer_id is not None:
        chosen = item.dealer.id if getattr(item, "dealer", None) is not None else item.dealer_id
        if chosen is not None and chosen != dealer_id:
            raise TenantViolation(_l("The selected record does not exist."), "dealer")
        if hasattr(type(item), "dealer"):
            from app.models.dealers import Dealer

            with db.session.no_autoflush:
                item.dealer = db.session.get(Dealer, dealer_id)
        item.dealer_id = dealer_id
    if not is_new:
        from sqlalchemy import inspect

        history = inspect(item).attrs.dealer_id.history
        if history.deleted and history.deleted[0] != item.dealer_id:
            raise DomainError(_l("A record cannot move to another dealer."), "dealer")
    if item.dealer_id is None and getattr(item, "dealer", None) is not None:
        item.dealer_id = item.dealer.id
    if item.dealer_id is None:
        raise DomainError(_l("Choose the dealer this record belongs to."), "dealer")
    check_tenant_references(item)


class TenantScopeMixin:
    """Shared set-up for tenant-scoped views and APIs."""

    tenant_column = "dealer_id"
    # FAB names the relation-filter attributes differently on views and on APIs.
    rel_filter_attrs: tuple[str, ...] = ()

    def _tenant_setup(self) -> None:
        self.base_filters = list(self.base_filters or []) + tenant_filters(self.tenant_column)
        if is_restrictable(self.datamodel.obj):
            self.base_filters += restriction_filters()
        every_relation = _scoped_relations(self.datamodel, self.datamodel.get_columns_list())
        for attr in self.rel_filter_attrs:
            setattr(self, attr, {**every_relation, **(getattr(self, attr, None) or {})})

    def pre_add(self, item):
        return self._prepare(item, is_new=True)

    def pre_update(self, item):
        return self._prepare(item, is_new=False)

    def _prepare(self, item, is_new: bool) -> list[str]:
        user = current_user()
        db.session.info["acting_user_id"] = getattr(user, "id", None)
        if not is_new:
            refuse_restricted(item)
        prepare_for_write(item, is_new=is_new)
        refuse_restricted_references(item, is_new=is_new)
        return self.validate(item) or []

    def validate(self, item) -> list[str] | None:
        """Whole-record rules of the domain; raise ``DomainError``, return warnings."""
        return None

    def pre_delete(self, item):
        dealer_id = current_dealer_id()
        if dealer_id is not None and getattr(item, self.tenant_column) != dealer_id:
            abort(404)
        refuse_restricted(item)
        refuse_deleting_referenced(item, db.session)  # a car with a sale is archived instead


class PermittedRelatedViewsMixin:
    """Show a related list only to users who may list it (costs: not for DealerStaff).

    FAB reads ``_related_views`` both for the widgets and for the template, so the
    filter sits on that attribute; FAB registers inner views through
    ``get_init_inner_views``, which keeps the full list.
    """

    _all_related_views: list | None = None

    @property
    def _related_views(self):
        views = self._all_related_views or []
        if not has_request_context():
            return views
        has_access = self.appbuilder.sm.has_access
        return [v for v in views if has_access("can_list", v.class_permission_name)]

    @_related_views.setter
    def _related_views(self, value):
        self._all_related_views = value

    def get_init_inner_views(self):
        return self._all_related_views


class TenantActionsMixin:
    """FAB's ``action``/``action_post`` load rows without ``base_filters``: check them here."""

    def _in_tenant(self, pk):
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        return item

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if request.method == "POST":  # FAB itself refuses a GET while CSRF is on
            self._in_tenant(pk)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        for pk in request.form.getlist("rowid"):
            self._in_tenant(pk)
        return super().action_post()


def local_next(value: str | None) -> str | None:
    """A ``next`` address from the URL, if it is a path on this site (never another host)."""
    from urllib.parse import urlsplit

    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


class BackToNextMixin:
    """After a save, go back to the page named by ``?next=`` (the page the person came
    from, e.g. the car a sale was recorded on), else FAB's page history."""

    def get_redirect(self):
        wanted = local_next(request.args.get("next")) if has_request_context() else None
        return wanted or super().get_redirect()


class TenantModelView(
    PriorityColumnsMixin,  # before FindingMixin, which builds the list widget itself
    FindingMixin,
    NamedRecordsMixin,
    BackToNextMixin,
    ListExportViewMixin,
    TenantActionsMixin,
    PermittedRelatedViewsMixin,
    RelationPickersMixin,
    OptionalCheckboxesMixin,
    TenantScopeMixin,
    ModelView,
):
    """A FAB ``ModelView`` whose every read and write is limited to the user's dealer;
    its messages and titles name the record (``app.record_names``), its list keeps its
    main columns on a phone (``app.list_priority``) and can be exported as filtered and
    sorted (``app.list_exporting``); it has the quick search, filter chips, columns and
    saved views of ``app.finding``; its pickers name their rows and search as you type
    (``app.form_fields``) and a save goes back to ``?next=``."""

    list_template = "forecourt/list.html"
    rel_filter_attrs = ("add_form_query_rel_fields", "edit_form_query_rel_fields", "search_form_query_rel_fields")

    def __init__(self, **kwargs):
        self._tenant_setup()
        super().__init__(**kwargs)

    def pre_add(self, item):
        self._flash_warnings(self._guarded(super().pre_add, item))

    def pre_update(self, item):
        self._flash_warnings(self._guarded(super().pre_update, item))

    @staticmethod
    def _guarded(check, item):
        with refused_forms_rolled_back():
            return check(item)

    @staticmethod
    def _flash_warnings(warnings):
        for warning in warnings or []:
            flash(warning, "warning")

    def render_template(self, template, **kwargs):
        """The show page of a tracked record gets its History tab (``history``): the
        record was found through the tenant and restriction filters, its history is too."""
        if template == self.show_template and "pk" in kwargs and is_tracked(self.datamodel.obj):
            item = self.datamodel.get(kwargs["pk"], self._base_filters)
            if item is not None:
                kwargs["history"] = history_of(item, self.show_columns, self.label_columns)
        return super().render_template(template, **kwargs)


class TenantModelRestApi(ListExportApiMixin, TenantScopeMixin, ForecourtModelRestApi):
    """A REST resource limited to the user's dealer; rule errors answer 422 (``app.rest``);
    ``GET …/export`` gives its list as CSV or XLSX."""

    rel_filter_attrs = ("add_query_rel_fields", "edit_query_rel_fields")

    def __init__(self):
        self._tenant_setup()
        if not is_tracked(self.datamodel.obj):
            self.exclude_route_methods = set(self.exclude_route_methods or ()) | {"history"}
        elif self.include_route_methods is not None:
            self.include_route_methods = set(self.include_route_methods) | {"history"}
        super().__init__()

    @expose_api("/<pk>/history", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def history(self, pk):
        """Who changed which field of the record, from what to what, when.
        ---
        get:
          description: >-
            The record's change history, newest first (at most 200 changes): the fields
            this resource shows, with their stored values (JSON) and as people read them
            in the user's language. A record of another dealer, or restricted, is a 404.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The record's changes
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count:
                        type: integer
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            changed_at:
                              type: string
                              format: date-time
                            action:
                              type: string
                              enum: [insert, update, delete]
                            field:
                              type: string
                              nullable: true
                            label:
                              type: string
                            old_value:
                              nullable: true
                            new_value:
                              nullable: true
                            old_display:
                              type: string
                            new_display:
                              type: string
                            changed_by:
                              type: integer
                              nullable: true
                            changed_by_name:
                              type: string
                            actor:
                              type: string
                              enum: [user, system]
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        row_id = as_row_id(pk)
        item = self.datamodel.get(row_id, self._base_filters) if row_id is not None else None
        if item is None:
            return self.response_404()
        entries = history_of(item, self.show_columns, self.label_columns)
        return self.response(200, count=len(entries), result=[entry.as_json() for entry in entries])

    def _init_model_schemas(self):
        super()._init_model_schemas()
        dealer_field = self.add_model_schema.fields.get("dealer")
        if dealer_field is not None:
            dealer_field.required = False  # stamped from the user for dealer users
