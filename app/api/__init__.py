"""REST resources (FAB ``ModelRestApi``) with the contract's names: dealer, car, client,
inquiry, sale; and the OpenAPI document that describes them (``app.api.openapi``)."""

from __future__ import annotations

from flask import current_app, request
from flask_appbuilder import AppBuilder
from flask_appbuilder.api.manager import SwaggerView

from app.api.openapi import ForecourtOpenApi
from app.api.privacy import PrivacyRequestApi
from app.datamodel import ForecourtInterface
from app.domain.clients import check_marketing_consent
from app.extensions import db
from app.models import Car, CarCost, Client, Dealer, Inquiry, Sale
from app.models.rules import validate_car, validate_sale
from app.rest import ForecourtModelRestApi
from app.tenancy import TenantModelRestApi

_CAR = [
    "stock_number",
    "vin",
    "legacy_chassis_number",
    "make",
    "model",
    "trim",
    "year",
    "body_type",
    "fuel",
    "transmission",
    "exterior_colour",
    "interior_colour",
    "mileage",
    "mileage_unit",
    "condition",
    "status",
    "published",
    "acquired_on",
    "listed_on",
    "asking_price_minor",
    "currency",
]


class DealerApi(ForecourtModelRestApi):
    resource_name = "dealer"
    # No DELETE: a dealer ends through termination (export, day 30, 3 years), never a hard delete.
    # A terminated dealer cannot be changed (a flush-time DomainError): 422, nothing changed.
    base_permissions = ["can_get", "can_post", "can_put", "can_info"]
    exclude_route_methods = {"delete"}  # no route, so not in the document either

    datamodel = ForecourtInterface(Dealer)
    _profile = [
        "slug",
        "business_name",
        "legal_name",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "email",
        "website",
        "record_visitor_ip",
        "inquiry_retention_months",
        "timezone",
        "default_currency",
    ]
    list_columns = ["id", "status", "created_at"] + _profile
    show_columns = list_columns
    add_columns = _profile
    edit_columns = _profile


class CarApi(TenantModelRestApi):
    resource_name = "car"
    datamodel = ForecourtInterface(Car)
    list_columns = ["id", "dealer.id", "sold_on", "created_at", "updated_at"] + _CAR
    show_columns = list_columns
    add_columns = ["dealer"] + _CAR
    edit_columns = _CAR
    search_columns = ["stock_number", "vin", "make", "model", "year", "status", "published"]

    def validate(self, item):
        return validate_car(item, db.session)


class CarCostApi(TenantModelRestApi):
    resource_name = "car_cost"
    datamodel = ForecourtInterface(CarCost)
    _fields = ["car", "kind", "amount_minor", "currency", "incurred_on", "note"]
    list_columns = ["id", "dealer.id", "car.id", "kind", "amount_minor", "currency", "incurred_on", "note"]
    show_columns = list_columns
    add_columns = ["dealer"] + _fields
    edit_columns = _fields


class ClientApi(TenantModelRestApi):
    resource_name = "client"
    datamodel = ForecourtInterface(Client)
    _fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "postal_code",
        "country",
        "source",
        "marketing_consent",
        "notes",
        "assigned_user",
    ]
    list_columns = ["id", "dealer.id", "possible_duplicate", "created_at", "assigned_user.id"] + [
        f for f in _fields if f != "assigned_user"
    ]
    show_columns = list_columns
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    search_columns = ["first_name", "last_name", "email", "phone", "city", "source"]

    def validate(self, item):
        check_marketing_consent(item)
        db.session.info["consent_source"] = request.path  # a consent change is recorded with the path


class InquiryApi(TenantModelRestApi):
    resource_name = "inquiry"
    datamodel = ForecourtInterface(Inquiry)
    _fields = ["car", "client", "name", "email", "phone", "message", "source", "status", "assigned_user", "first_response_at"]
    list_columns = [
        "id",
        "dealer.id",
        "car.id",
        "client.id",
        "assigned_user.id",
        "name",
        "email",
        "phone",
        "message",
        "source",
        "status",
        "received_at",
        "first_response_at",
    ]
    show_columns = list_columns
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    search_columns = ["name", "email", "status", "source"]


class SaleApi(TenantModelRestApi):
    resource_name = "sale"
    datamodel = ForecourtInterface(Sale)
    _fields = ["deal_number", "car", "buyer", "salesperson", "price_minor", "currency", "sale_date", "status"]
    list_columns = [
        "id",
        "dealer.id",
        "deal_number",
        "car.id",
        "buyer.id",
        "salesperson.id",
        "price_minor",
        "currency",
        "sale_date",
        "status",
    ]
    show_columns = list_columns
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    search_columns = ["deal_number", "status", "sale_date"]

    def validate(self, item):
        validate_sale(item, db.session)


TENANT_APIS = (CarApi, CarCostApi, ClientApi, InquiryApi, SaleApi)
ALL_APIS = (DealerApi,) + TENANT_APIS
# Privacy requests: tenant-scoped too (a nullable dealer_id; tests/test_privacy_api.py checks isolation).
ALL_APIS += (PrivacyRequestApi,)


def register_apis(appbuilder: AppBuilder) -> None:
    for api in ALL_APIS:
        appbuilder.add_api(api)
    # In place of FAB's own (``FAB_ADD_OPENAPI_VIEWS = False``): the document completed.
    if current_app.config.get("FAB_API_SWAGGER_UI"):
        appbuilder.add_api(ForecourtOpenApi)
        appbuilder.add_view_no_menu(SwaggerView)
