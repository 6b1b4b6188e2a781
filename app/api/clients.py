"""REST resource ``client`` (contract): a dealer's clients; a marketing-consent change is
recorded in the consent ledger with the API path as its source."""

from __future__ import annotations

from flask import request

from app.datamodel import ForecourtInterface
from app.domain.clients import check_marketing_consent
from app.extensions import db
from app.models import Client
from app.tenancy import TenantModelRestApi


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
