"""The consent ledger, read-only for everyone: the privacy officer sees every dealer's
records, a dealer's users their own (``TenantModelView``). Enum values and times are
shown translated by ``app.i18n.localised``."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.models import ConsentRecord
from app.tenancy import TenantModelView

CONSENT_LABELS = {
    "recorded_at": _l("Recorded"),
    "dealer": _l("Dealer"),
    "client": _l("Client"),
    "inquiry": _l("Inquiry"),
    "email": _l("E-mail"),
    "purpose": _l("Purpose"),
    "action": _l("Action"),
    "policy_version": _l("Privacy notice version"),
    "method": _l("Method"),
    "source": _l("Source"),
    "ip_address": _l("IP address"),
    "recorded_by": _l("Recorded by"),
}


class ConsentRecordView(TenantModelView):
    datamodel = ForecourtInterface(ConsentRecord)
    route_base = "/consentledger"
    base_permissions: ClassVar[list[str]] = ["can_list", "can_show"]
    base_order = ("recorded_at", "desc")
    list_title = _l("Consent ledger")
    show_title = _l("Consent record")
    list_columns: ClassVar[list[str]] = ["recorded_at", "dealer", "client", "email", "purpose", "action", "method", "policy_version"]
    show_columns: ClassVar[list[str]] = [
        "recorded_at",
        "dealer",
        "client",
        "inquiry",
        "email",
        "purpose",
        "action",
        "policy_version",
        "method",
        "source",
        "ip_address",
        "recorded_by",
    ]
    search_columns: ClassVar[list[str]] = [
        "recorded_at",
        "dealer",
        "client",
        "email",
        "purpose",
        "action",
        "method",
        "source",
        "policy_version",
    ]
    label_columns: ClassVar[dict] = CONSENT_LABELS
