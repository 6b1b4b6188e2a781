"""REST resource ``inquiry`` (contract): a dealer's inquiries."""

from __future__ import annotations

from app.bulk_editing import BulkEditApiMixin
from app.datamodel import ForecourtInterface
from app.models import Inquiry
from app.tenancy import TenantModelRestApi


class InquiryApi(BulkEditApiMixin, TenantModelRestApi):
    bulk_kind = "inquiry"
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
