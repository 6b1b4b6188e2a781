"""The shared base of every Forecourt REST resource: input a client can send is answered
with 400/404/422 and a message, never a 500, and the OpenAPI document says so
(``app.api.openapi`` completes FAB's generated document).

- ``q`` (Rison or JSON) that does not parse, or a filter value that is not a single
  text, number or true/false: 400 before FAB touches it (FAB's own parser lets some
  malformed Rison escape as a 500).
- A relation sent as an object or a list (``{"car": {"id": 1}}``): 422; a relation is
  sent as the related row's id.
- An integer beyond its column's range: 422 on that field (``fit_schemas_to_columns``).
- Values the database refuses anyway: 400 (``app.datamodel.BadInput``), session rolled back.
- A row id that no row can have (text, negative, past 64 bits): 404 on GET, PUT and DELETE
  alike (FAB routes GET ``/<int:pk>`` only, so ``GET /car/abc`` was a 405).
"""

from __future__ import annotations

import json
from typing import Any

import prison
from flask import current_app, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, merge_response_func, protect, rison, safe
from flask_appbuilder.api.schemas import get_item_schema
from flask_appbuilder.const import (
    API_DESCRIPTION_COLUMNS_RIS_KEY,
    API_LABEL_COLUMNS_RIS_KEY,
    API_SHOW_COLUMNS_RIS_KEY,
    API_SHOW_TITLE_RIS_KEY,
)
from flask_appbuilder.hooks import before_request
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from marshmallow.validate import Validator
from sqlalchemy.exc import IntegrityError

from app.datamodel import as_row_id, bad_input_message, int_range, is_bad_input
from app.domain import DomainError
from app.domain.tenancy import TenantViolation
from app.extensions import db

_SCALARS = (str, int, float, bool, type(None))


class FitsColumn(Validator):
    """An integer its column can store (a 32-bit INTEGER on PostgreSQL, 64-bit on SQLite)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, value: Any) -> Any:
        if value is not None and not (self.low <= value <= self.high):
            raise ValidationError(gettext("Enter a whole number from %(low)s to %(high)s.", low=self.low, high=self.high))
        return value


def fit_schemas_to_columns(api: ModelRestApi) -> None:
    """Make FAB's generated schemas follow the columns: a NOT NULL column with a default
    may be left out, a nullable one (enums too) accepts null, which FAB's PUT merge
    sends back for every empty column, and an integer must fit its column."""
    table = api.datamodel.obj.__table__
    for schema in (api.add_model_schema, api.edit_model_schema):
        for name, field in schema.fields.items():
            column = table.columns.get(name)
            if column is None:
                continue
            if column.default is not None:
                field.required = False
            if column.nullable:
                field.allow_none = True
            bounds = int_range(column.type)
            if bounds is not None and not any(isinstance(v, FitsColumn) for v in field.validators):
                field.validators = [*field.validators, FitsColumn(*bounds)]


def parse_q(value: str) -> Any:
    """``q`` as FAB reads it (Rison, else JSON); raises ``ValueError`` when neither parses."""
    try:
        return prison.loads(value)
    except Exception as exc:
        if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
            raise ValueError(value) from exc
    return json.loads(value)  # a JSONDecodeError is a ValueError


def q_problem(value: str) -> str | None:
    """Why ``q`` cannot be used, or None."""
    try:
        args = parse_q(value)
    except ValueError:
        return gettext("The q parameter is not valid Rison or JSON.")
    filters = args.get("filters") if isinstance(args, dict) else None
    if isinstance(filters, list):
        for item in filters:
            if isinstance(item, dict) and not isinstance(item.get("value"), _SCALARS):
                return gettext("A filter value must be a single text, number or true/false.")
    return None


class ForecourtModelRestApi(ModelRestApi):
    """``ModelRestApi`` that answers bad input with 400/404/422, never with a 500."""

    @before_request
    def refuse_malformed_q(self):
        value = request.args.get("q")
        problem = q_problem(value) if value else None
        if problem:
            return self.response_400(message=problem)
        return None

    def _init_model_schemas(self):
        super()._init_model_schemas()
        fit_schemas_to_columns(self)

    # ------------------------------------------------------------------ reading

    @expose("/<pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_item_schema)
    @merge_response_func(ModelRestApi.merge_show_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_columns, API_SHOW_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_title, API_SHOW_TITLE_RIS_KEY)
    def get(self, pk, **kwargs):
        row_id = as_row_id(pk)
        if row_id is None:
            return self.response_404()
        return self.get_headless(row_id, **kwargs)

    get.__doc__ = ModelRestApi.get.__doc__  # FAB's operation description, as the document shows it

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        """FAB translates a column's label and description even when it has none, and
        ``gettext("")`` is the catalogue's header (``Project-Id-Version: …``): an empty
        one stays empty."""
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        for key, texts in (("label", self.label_columns), ("description", self.description_columns)):
            if not texts.get(field.name):
                info[key] = ""
        return info

    # ------------------------------------------------------------------ writes

    def post_headless(self):
        return self._write(super().post_headless)

    def put_headless(self, pk):
        return self._write(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._write(super().delete_headless, pk)

    def _write(self, handler, *args):
        refused = self._refuse_nested_relations()
        if refused is not None:
            return refused
        try:
            return handler(*args)
        except (DomainError, TenantViolation, IntegrityError) as exc:
            db.session.rollback()
            if isinstance(exc, IntegrityError):
                current_app.logger.warning("integrity error on %s: %s", self.resource_name, type(exc.orig).__name__)
            return self.response_422(message=_error_messages(exc))
        except Exception as exc:
            if not is_bad_input(exc) and not is_bad_input(exc.__cause__ or exc):
                raise
            db.session.rollback()
            return self.response_400(message=bad_input_message())

    def _refuse_nested_relations(self):
        """A relation is sent as an id; an object or a list is a 422 on that field."""
        if request.method not in ("POST", "PUT") or not request.is_json:
            return None
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None
        errors = {
            name: [gettext("Send the id of the related record, not an object or a list.")]
            for name, value in body.items()
            if self.datamodel.is_relation(name) and isinstance(value, dict | list)
        }
        return self.response_422(message=errors) if errors else None


def _error_messages(exc: Exception) -> dict:
    if isinstance(exc, DomainError):
        return exc.as_dict()
    if isinstance(exc, ValidationError):
        return exc.messages
    return {"_schema": [str(_l("This record conflicts with an existing one."))]}
