"""Sales, and the sales kept for accounting after their buyer was erased."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.domain.finding import EMAIL, PHONE, TEXT, VIN
from app.domain.formatting import format_date
from app.extensions import db
from app.form_fields import currency_field, money_field
from app.models import Car, Sale
from app.models.rules import validate_sale
from app.models.sales_flow import sellable_clause
from app.restriction import is_restrictable, restriction_filters
from app.tenancy import TenantModelView, tenant_filters
from app.views.labels import SALE_LABELS
from app.views.record_links import link_to


class FilterSellableCar(BaseFilter):
    """Cars that may get a new sale: not sold or archived, no draft or sold sale."""

    name = "Sellable"
    arg_name = None

    def apply(self, query, value):
        return query.filter(sellable_clause())


def _sellable_car_filters() -> list:
    # The add form's car picker: the tenant and restriction filters every picker has
    # (app.tenancy), and only cars that can be sold.
    restricted = restriction_filters() if is_restrictable(Car) else []
    return [*tenant_filters("dealer_id"), *restricted, ["id", FilterSellableCar, None]]


class SaleModelView(TenantModelView):
    datamodel = ForecourtInterface(Sale)
    list_title = _l("Sales")
    show_title = _l("Sale")
    add_title = _l("Record a sale")
    edit_title = _l("Edit sale")
    list_narrow_columns = ["deal_number", "price_display", "status"]  # on a phone
    list_columns = ["deal_number", "sale_date", "car", "buyer", "price_display", "status", "salesperson"]
    search_columns = ["deal_number", "sale_date", "status", "car", "buyer", "salesperson"]
    quick_search_columns = {
        "deal_number": TEXT,
        "car.stock_number": TEXT,
        "car.vin": VIN,
        "car.make": TEXT,
        "car.model": TEXT,
        "buyer.first_name": TEXT,
        "buyer.last_name": TEXT,
        "buyer.email": EMAIL,
        "buyer.phone": PHONE,
    }
    _fields = ["deal_number", "car", "buyer", "salesperson", "sale_date", "currency", "price", "status"]
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    show_columns = ["deal_number", "sale_date", "car", "buyer", "salesperson", "price_display", "status"]
    add_form_extra_fields = {"currency": currency_field(), "price": money_field(_l("Price"), required=True)}
    edit_form_extra_fields = add_form_extra_fields
    base_order = ("sale_date", "desc")
    label_columns = SALE_LABELS
    add_form_query_rel_fields = {"car": _sellable_car_filters()}
    picker_search = True  # large tables: the pickers search as you type
    add_template = "forecourt/picker_form_add.html"
    edit_template = "forecourt/picker_form_edit.html"
    formatters_columns = {
        "car": lambda car: link_to("CarModelView.show", car),
        "buyer": lambda client: link_to("ClientModelView.show", client),
    }

    def validate(self, item):
        validate_sale(item, db.session)


class FilterKeptBuyer(BaseFilter):
    """Sales that keep an erased buyer's name and address for accounting."""

    name = "Kept buyer"
    arg_name = None

    def apply(self, query, value):
        return query.filter(Sale.buyer_name.is_not(None))


class KeptSaleView(TenantModelView):
    """Sales kept for accounting after their buyer was erased, with the buyer's name and
    address the accounting purpose needs. They are restricted, so only the privacy
    officer sees them (``app.restriction``); read-only, not searchable by the buyer."""

    datamodel = ForecourtInterface(Sale)
    base_permissions = ["can_list", "can_show"]
    base_filters = [["buyer_name", FilterKeptBuyer, None]]
    list_title = _l("Sales kept for accounting")
    show_title = _l("Sale kept for accounting")
    list_columns = ["dealer", "deal_number", "sale_date", "buyer_name", "price_display", "kept_until"]
    show_columns = ["dealer", "deal_number", "sale_date", "car", "price_display", "status", "buyer_name", "buyer_address", "kept_until"]
    search_columns = ["dealer", "deal_number", "sale_date"]
    formatters_columns = {"kept_until": format_date}
    base_order = ("sale_date", "asc")
    label_columns = {
        **SALE_LABELS,
        "buyer_name": _l("Buyer’s name"),
        "buyer_address": _l("Buyer’s address"),
        "kept_until": _l("Erased on"),
    }
