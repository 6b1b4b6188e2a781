"""REST resources ``car`` and ``car_cost`` (contract): a dealer's stock and its costs."""

from __future__ import annotations

from app.bulk_editing import BulkEditApiMixin
from app.datamodel import ForecourtInterface
from app.extensions import db
from app.models import Car, CarCost
from app.models.rules import validate_car
from app.tenancy import TenantModelRestApi

CAR_FIELDS = [
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


class CarApi(BulkEditApiMixin, TenantModelRestApi):
    resource_name = "car"
    datamodel = ForecourtInterface(Car)
    list_columns = ["id", "dealer.id", "sold_on", "created_at", "updated_at"] + CAR_FIELDS
    show_columns = list_columns
    add_columns = ["dealer"] + CAR_FIELDS
    edit_columns = CAR_FIELDS
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
