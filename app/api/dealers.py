"""REST resource ``dealer`` (contract): the dealers' profiles; no DELETE (a dealer ends
through termination, never a hard delete)."""

from __future__ import annotations

from app.datamodel import ForecourtInterface
from app.models import Dealer
from app.rest import ForecourtModelRestApi


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
