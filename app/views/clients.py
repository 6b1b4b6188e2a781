"""Clients."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.domain.clients import check_marketing_consent
from app.domain.finding import EMAIL, PHONE, TEXT
from app.extensions import db
from app.models import Client
from app.tenancy import TenantModelView
from app.views.consent import ConsentRecordView
from app.views.disclosures import DisclosureModelView
from app.views.inquiries import InquiryModelView
from app.views.labels import CLIENT_LABELS
from app.views.sales import SaleModelView


class ClientModelView(TenantModelView):
    datamodel = ForecourtInterface(Client)
    list_title = _l("Clients")
    show_title = _l("Client")
    add_title = _l("Add a client")
    edit_title = _l("Edit client")
    related_views = [InquiryModelView, SaleModelView, DisclosureModelView, ConsentRecordView]
    list_narrow_columns = ["full_name", "phone"]  # on a phone
    list_columns = ["full_name", "email", "phone", "city", "source", "marketing_consent", "possible_duplicate", "assigned_user"]
    search_columns = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "city",
        "source",
        "marketing_consent",
        "possible_duplicate",
        "assigned_user",
    ]
    quick_search_columns = {"first_name": TEXT, "last_name": TEXT, "email": EMAIL, "phone": PHONE, "city": TEXT}
    _fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "source",
        "marketing_consent",
        "assigned_user",
        "notes",
    ]
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    show_fieldsets = [
        (_l("Contact"), {"fields": ["first_name", "last_name", "email", "phone", "possible_duplicate"]}),
        (_l("Address"), {"fields": ["address_line1", "address_line2", "postal_code", "city", "country"]}),
        (_l("Relationship"), {"fields": ["source", "marketing_consent", "assigned_user", "notes"]}),
    ]
    base_order = ("last_name", "asc")
    label_columns = CLIENT_LABELS

    def validate(self, item):
        check_marketing_consent(item)
        db.session.info["consent_source"] = request.path  # a consent change is recorded with the page
