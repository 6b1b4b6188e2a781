"""Cars, their costs and history."""

from __future__ import annotations

from flask import flash, redirect
from flask_appbuilder.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.bulk_editing import BulkEditViewMixin
from app.datamodel import ForecourtInterface
from app.domain.finding import NUMBER, TEXT, VIN
from app.domain.formatting import format_datetime
from app.extensions import db
from app.form_fields import ValidVin, currency_field, money_field
from app.models import Car, CarCost, CarPhoto, CarPriceChange, CarStatusChange
from app.models.rules import archive_cars, set_published, validate_car
from app.tenancy import TenantModelView
from app.views.car_photos import list_thumbnail
from app.views.inquiries import InquiryModelView
from app.views.labels import CAR_LABELS


class _ReadOnlyHistory(TenantModelView):
    base_permissions = ["can_list", "can_show"]
    formatters_columns = {"changed_at": format_datetime}
    base_order = ("changed_at", "desc")


class CarPriceChangeView(_ReadOnlyHistory):
    datamodel = ForecourtInterface(CarPriceChange)
    list_title = _l("Price history")
    list_columns = ["changed_at", "old_price_display", "new_price_display", "changed_by"]
    show_columns = ["car", *list_columns]
    search_columns = ["changed_at", "changed_by"]
    label_columns = {
        "car": _l("Car"),
        "changed_at": _l("Changed"),
        "old_price_display": _l("Old price"),
        "new_price_display": _l("New price"),
        "changed_by": _l("By"),
    }


class CarStatusChangeView(_ReadOnlyHistory):
    datamodel = ForecourtInterface(CarStatusChange)
    list_title = _l("Status history")
    list_columns = ["changed_at", "old_status", "new_status", "changed_by"]
    show_columns = ["car", *list_columns]
    search_columns = ["changed_at", "new_status", "changed_by"]
    label_columns = {
        "car": _l("Car"),
        "changed_at": _l("Changed"),
        "old_status": _l("From"),
        "new_status": _l("To"),
        "changed_by": _l("By"),
    }


class CarCostView(TenantModelView):
    """Internal costs: DealerAdmin only (DealerStaff has no permission on this view)."""

    datamodel = ForecourtInterface(CarCost)
    list_title = _l("Costs")
    list_columns = ["car", "kind", "amount_display", "incurred_on", "note"]
    add_columns = ["car", "kind", "currency", "amount", "incurred_on", "note"]
    edit_columns = add_columns
    show_columns = ["car", "kind", "amount_display", "incurred_on", "note"]
    search_columns = ["car", "kind", "incurred_on"]
    quick_search_columns = {"car.stock_number": TEXT, "car.vin": VIN, "note": TEXT}
    add_form_extra_fields = {"currency": currency_field(), "amount": money_field(_l("Amount"), required=True)}
    edit_form_extra_fields = add_form_extra_fields
    label_columns = {
        "car": _l("Car"),
        "kind": _l("Kind"),
        "amount": _l("Amount"),
        "amount_display": _l("Amount"),
        "incurred_on": _l("Date"),
        "note": _l("Note"),
        "currency": _l("Currency"),
    }


class CarPhotoView(TenantModelView):
    datamodel = ForecourtInterface(CarPhoto)
    list_title = _l("Photos")
    base_permissions = ["can_list", "can_show", "can_delete"]
    list_columns = ["position", "is_primary", "caption"]
    show_columns = ["car", *list_columns]
    search_columns = ["caption"]
    label_columns = {"car": _l("Car"), "position": _l("Position"), "is_primary": _l("Main photo"), "caption": _l("Caption")}
    base_order = ("position", "asc")


class CarModelView(BulkEditViewMixin, TenantModelView):
    datamodel = ForecourtInterface(Car)
    list_title = _l("Cars")
    show_title = _l("Car")
    add_title = _l("Add a car")
    edit_title = _l("Edit car")
    related_views = [CarCostView, CarPriceChangeView, CarStatusChangeView, InquiryModelView]
    list_columns = [
        "main_photo",
        "stock_number",
        "year",
        "make",
        "model",
        "status",
        "published",
        "asking_price_display",
        "mileage_display",
        "days_in_stock",
    ]
    list_narrow_columns = ["stock_number", "status", "asking_price_display"]  # on a phone
    search_columns = ["stock_number", "vin", "make", "model", "year", "status", "published", "condition", "fuel", "acquired_on"]
    # The list's columns as the database holds them (the list shows formatted properties).
    export_columns = [
        "stock_number",
        "vin",
        "year",
        "make",
        "model",
        "status",
        "published",
        "asking_price_minor",
        "currency",
        "mileage",
        "mileage_unit",
        "acquired_on",
        "sold_on",
    ]
    quick_search_columns = {"stock_number": TEXT, "vin": VIN, "make": TEXT, "model": TEXT, "trim": TEXT, "year": NUMBER}
    _details = [
        "stock_number",
        "vin",
        "legacy_chassis_number",
        "year",
        "make",
        "model",
        "trim",
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
        "currency",
        "asking_price",
    ]
    add_columns = ["dealer"] + _details
    edit_columns = _details
    show_fieldsets = [
        (
            _l("Vehicle"),
            {
                "fields": [
                    "stock_number",
                    "vin",
                    "year",
                    "make",
                    "model",
                    "trim",
                    "body_type",
                    "fuel",
                    "transmission",
                    "exterior_colour",
                    "interior_colour",
                    "mileage_display",
                    "condition",
                ]
            },
        ),
        (
            _l("Listing"),
            {"fields": ["status", "published", "asking_price_display", "acquired_on", "listed_on", "sold_on", "days_in_stock"]},
        ),
    ]
    add_form_extra_fields = {"currency": currency_field(), "asking_price": money_field(_l("Asking price"))}
    edit_form_extra_fields = add_form_extra_fields
    base_order = ("acquired_on", "desc")
    label_columns = {**CAR_LABELS, "main_photo": _l("Photo")}
    formatters_columns = {"main_photo": list_thumbnail}
    show_template = "inventory/car_show.html"  # the details, then the photos (inventory/_car_photos.html)
    validators_columns = {"vin": [ValidVin()]}

    def record_name(self, item):
        return item.stock_number  # "Car N0100 added"

    def record_title(self, item):
        return f"{item.make} {item.model} {item.year} ({item.stock_number})"

    def validate(self, item):
        return validate_car(item, db.session)

    @action("publish", _l("Publish"), _l("Publish the selected cars on the public listing?"), "fa-eye")
    def publish(self, items):
        return self._publish(items, True)

    @action("unpublish", _l("Unpublish"), _l("Take the selected cars off the listing?"), "fa-eye-slash")
    def unpublish(self, items):
        return self._publish(items, False)

    @action(
        "archive",
        _l("Archive"),
        _l("Archive the selected cars? They leave the stock and the listing; their history and sale are kept."),
        "fa-archive",
    )
    def archive(self, items):
        cars = items if isinstance(items, list) else [items]
        changed, refused = archive_cars(cars)
        db.session.commit()
        flash(ngettext("%(num)d car archived.", "%(num)d cars archived.", changed), "success")
        if refused:
            flash(
                _("Cars with a draft sale are not archived (finish or void the sale first): %(cars)s", cars=", ".join(refused)), "warning"
            )
        self.update_redirect()
        return redirect(self.get_redirect())

    def _publish(self, items, published: bool):
        cars = items if isinstance(items, list) else [items]
        changed, refused = set_published(cars, published)
        db.session.commit()
        flash(ngettext("%(num)d car updated.", "%(num)d cars updated.", changed), "success")
        if refused:
            flash(_("Sold or archived cars are not published: %(cars)s", cars=", ".join(refused)), "warning")
        self.update_redirect()
        return redirect(self.get_redirect())
