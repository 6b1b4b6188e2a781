"""REST resource ``sale`` (contract): a dealer's sales."""

from __future__ import annotations

from app.datamodel import ForecourtInterface
from app.extensions import db
from app.models import Sale
from app.models.rules import validate_sale
from app.tenancy import TenantModelRestApi


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
