"""The disclosure log: which third party received a client's data, and why (GDPR Art. 19)."""

from __future__ import annotations

from datetime import date

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.domain import DomainError
from app.models import Client, Disclosure
from app.restriction import can_see_restricted
from app.tenancy import TenantModelView, current_user

DISCLOSURE_LABELS = {
    "dealer": _l("Dealer"),
    "client": _l("Client"),
    "recipient": _l("Recipient"),
    "recipient_email": _l("Recipient's e-mail"),
    "purpose": _l("Purpose"),
    "data_categories": _l("Data disclosed"),
    "disclosed_on": _l("Disclosed on"),
    "created_at": _l("Recorded"),
}


class FilterClientNotRestricted(BaseFilter):
    """A restricted client's disclosures are hidden like the client itself."""

    name = "Client not restricted"
    arg_name = None

    def apply(self, query, value):
        if can_see_restricted(current_user()):
            return query
        return query.filter(Disclosure.client.has(Client.restricted_at.is_(None)))


def validate_disclosure(item: Disclosure) -> None:
    for field in ("recipient", "purpose"):
        value = (getattr(item, field) or "").strip()
        if not value:
            raise DomainError(_l("Name the recipient and the purpose of the disclosure."), field)
        setattr(item, field, value)
    if item.disclosed_on is not None and item.disclosed_on > date.today():
        raise DomainError(_l("The date of a disclosure cannot be in the future."), "disclosed_on")


_FIELDS = ["client", "recipient", "recipient_email", "purpose", "data_categories", "disclosed_on"]
_LIST = ["disclosed_on", "client", "recipient", "purpose", "data_categories"]
_SEARCH = ["client", "recipient", "recipient_email", "purpose", "disclosed_on"]
_DESCRIPTIONS = {
    "recipient_email": _l("Where we tell the recipient about corrections, erasure or restriction of this client's data."),
    "data_categories": _l("For example: contact details, purchase contract."),
}
_HIDE_RESTRICTED = [["client_id", FilterClientNotRestricted, None]]


class DisclosureModelView(TenantModelView):
    datamodel = ForecourtInterface(Disclosure)
    base_filters = _HIDE_RESTRICTED
    list_title = _l("Disclosures")
    show_title = _l("Disclosure")
    add_title = _l("Record a disclosure")
    edit_title = _l("Edit disclosure")
    list_columns = _LIST
    search_columns = _SEARCH
    add_columns = ["dealer"] + _FIELDS
    edit_columns = _FIELDS
    show_columns = _FIELDS + ["created_at"]
    description_columns = _DESCRIPTIONS
    base_order = ("disclosed_on", "desc")
    label_columns = DISCLOSURE_LABELS

    def validate(self, item):
        validate_disclosure(item)
