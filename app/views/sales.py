"""Sales."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.extensions import db
from app.form_fields import currency_field, money_field
from app.models import Sale
from app.models.rules import validate_sale
from app.tenancy import TenantModelView
from app.views.labels import SALE_LABELS


class SaleModelView(TenantModelView):
    datamodel = ForecourtInterface(Sale)
    list_title = _l("Sales")
    show_title = _l("Sale")
    add_title = _l("Record a sale")
    edit_title = _l("Edit sale")
    list_columns = ["deal_number", "sale_date", "car", "buyer", "price_display", "status", "salesperson"]
    search_columns = ["deal_number", "sale_date", "status", "car", "buyer", "salesperson"]
    _fields = ["deal_number", "car", "buyer", "salesperson", "sale_date", "currency", "price", "status"]
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    show_columns = ["deal_number", "sale_date", "car", "buyer", "salesperson", "price_display", "status"]
    add_form_extra_fields = {"currency": currency_field(), "price": money_field(_l("Price"), required=True)}
    edit_form_extra_fields = add_form_extra_fields
    base_order = ("sale_date", "desc")
    label_columns = SALE_LABELS

    def validate(self, item):
        validate_sale(item, db.session)
