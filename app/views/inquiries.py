"""Inquiries and the pipeline."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.bulk_editing import BulkEditViewMixin
from app.datamodel import ForecourtInterface
from app.domain.finding import EMAIL, PHONE, TEXT, VIN
from app.domain.formatting import format_datetime
from app.models import Inquiry
from app.tenancy import TenantModelView
from app.views.labels import INQUIRY_LABELS


class InquiryModelView(BulkEditViewMixin, TenantModelView):
    bulk_kind = "inquiry"
    datamodel = ForecourtInterface(Inquiry)
    list_title = _l("Inquiries")
    show_title = _l("Inquiry")
    add_title = _l("Add an inquiry")
    edit_title = _l("Edit inquiry")
    list_narrow_columns = ["name", "status"]  # on a phone
    list_columns = ["received_at", "name", "car", "status", "source", "assigned_user"]
    search_columns = ["name", "email", "phone", "status", "source", "car", "client", "assigned_user", "received_at"]
    quick_search_columns = {"name": TEXT, "email": EMAIL, "phone": PHONE, "car.stock_number": TEXT, "car.vin": VIN}
    _fields = ["car", "client", "name", "email", "phone", "message", "source", "status", "assigned_user", "first_response_at"]
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    show_fieldsets = [
        (_l("Inquiry"), {"fields": ["received_at", "name", "email", "phone", "message", "car", "client", "source"]}),
        (_l("Pipeline"), {"fields": ["status", "assigned_user", "first_response_at"]}),
        (_l("Technical"), {"fields": ["ip_address", "user_agent"], "expanded": False}),
    ]
    formatters_columns = {"received_at": format_datetime, "first_response_at": format_datetime}
    base_order = ("received_at", "desc")
    label_columns = INQUIRY_LABELS
