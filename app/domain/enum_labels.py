"""What people read for stored enum values (car status, fuel, inquiry status …).

The database and the API keep the machine value (``in_preparation``); lists, show pages,
forms, mails and summaries show the label, translated in the active locale. Each label
has a context (``pgettext``) because one English word takes different forms in other
languages ("New" inquiry / "New" car is "Нове" / "Новий" in Ukrainian).

Keyed by the enum's class name so this module needs no model import; a test checks that
every enum column of every model has a label for each of its values.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext, lazy_pgettext
from flask_babel.speaklater import LazyString

LABELS: dict[str, dict[str, LazyString]] = {
    "CarStatus": {
        "acquired": lazy_pgettext("car status", "Acquired"),
        "in_preparation": lazy_pgettext("car status", "In preparation"),
        "available": lazy_pgettext("car status", "Available"),
        "reserved": lazy_pgettext("car status", "Reserved"),
        "sold": lazy_pgettext("car status", "Sold"),
        "archived": lazy_pgettext("car status", "Archived"),
    },
    "Condition": {
        "new": lazy_pgettext("car condition", "New"),
        "used": lazy_pgettext("car condition", "Used"),
    },
    "MileageUnit": {
        "km": lazy_pgettext("mileage unit", "km"),
        "mi": lazy_pgettext("mileage unit", "mi"),
    },
    "Fuel": {
        "petrol": lazy_pgettext("fuel", "Petrol"),
        "diesel": lazy_pgettext("fuel", "Diesel"),
        "hybrid": lazy_pgettext("fuel", "Hybrid"),
        "plug_in_hybrid": lazy_pgettext("fuel", "Plug-in hybrid"),
        "electric": lazy_pgettext("fuel", "Electric"),
        "lpg": lazy_pgettext("fuel", "LPG"),
        "other": lazy_pgettext("fuel", "Other"),
    },
    "Transmission": {
        "manual": lazy_pgettext("transmission", "Manual"),
        "automatic": lazy_pgettext("transmission", "Automatic"),
    },
    "BodyType": {
        "hatchback": lazy_pgettext("body type", "Hatchback"),
        "sedan": lazy_pgettext("body type", "Sedan"),
        "estate": lazy_pgettext("body type", "Estate"),
        "suv": lazy_pgettext("body type", "SUV"),
        "coupe": lazy_pgettext("body type", "Coupé"),
        "convertible": lazy_pgettext("body type", "Convertible"),
        "van": lazy_pgettext("body type", "Van"),
        "pickup": lazy_pgettext("body type", "Pickup"),
        "other": lazy_pgettext("body type", "Other"),
    },
    "CostKind": {
        "purchase": lazy_pgettext("cost kind", "Purchase"),
        "reconditioning": lazy_pgettext("cost kind", "Reconditioning"),
        "transport": lazy_pgettext("cost kind", "Transport"),
        "fees": lazy_pgettext("cost kind", "Fees"),
        "other": lazy_pgettext("cost kind", "Other"),
    },
    "ClientSource": {
        "walk_in": lazy_pgettext("client source", "Walk-in"),
        "phone": lazy_pgettext("client source", "Phone"),
        "website": lazy_pgettext("client source", "Website"),
        "marketplace": lazy_pgettext("client source", "Marketplace"),
        "referral": lazy_pgettext("client source", "Referral"),
        "other": lazy_pgettext("client source", "Other"),
        "imported": lazy_pgettext("client source", "Imported from a file"),
    },
    "ImportKind": {
        "car": lazy_pgettext("import kind", "Cars"),
        "client": lazy_pgettext("import kind", "Clients"),
    },
    "ImportStatus": {
        "preview": lazy_pgettext("import status", "Previewed"),
        "queued": lazy_pgettext("import status", "Being applied"),
        "applied": lazy_pgettext("import status", "Applied"),
        "failed": lazy_pgettext("import status", "Failed, nothing written"),
    },
    "InquiryStatus": {
        "new": lazy_pgettext("inquiry status", "New"),
        "contacted": lazy_pgettext("inquiry status", "Contacted"),
        "appointment": lazy_pgettext("inquiry status", "Appointment"),
        "negotiating": lazy_pgettext("inquiry status", "Negotiating"),
        "won": lazy_pgettext("inquiry status", "Won"),
        "lost": lazy_pgettext("inquiry status", "Lost"),
    },
    "InquirySource": {
        "website": lazy_pgettext("inquiry source", "Website"),
        "phone": lazy_pgettext("inquiry source", "Phone"),
        "email": lazy_pgettext("inquiry source", "E-mail"),
        "walk_in": lazy_pgettext("inquiry source", "Walk-in"),
        "marketplace": lazy_pgettext("inquiry source", "Marketplace"),
        "other": lazy_pgettext("inquiry source", "Other"),
    },
    "SaleStatus": {
        "draft": lazy_pgettext("sale status", "Draft"),
        "sold": lazy_pgettext("sale status", "Sold"),
        "voided": lazy_pgettext("sale status", "Voided"),
    },
    "DealerStatus": {
        "active": lazy_pgettext("dealer status", "Active"),
        "terminated": lazy_pgettext("dealer status", "Terminated"),
    },
    "RequestType": {
        "access": lazy_pgettext("privacy request type", "Access"),
        "portability": lazy_pgettext("privacy request type", "Data portability"),
        "rectification": lazy_pgettext("privacy request type", "Rectification"),
        "erasure": lazy_pgettext("privacy request type", "Erasure"),
        "restriction": lazy_pgettext("privacy request type", "Restriction of processing"),
        "objection": lazy_pgettext("privacy request type", "Objection"),
        "account_export": lazy_pgettext("privacy request type", "Account export"),
    },
    "RequestStatus": {
        "received": lazy_pgettext("privacy request status", "Received"),
        "awaiting_verification": lazy_pgettext("privacy request status", "Awaiting verification"),
        "verified": lazy_pgettext("privacy request status", "Verified"),
        "in_progress": lazy_pgettext("privacy request status", "In progress"),
        "completed": lazy_pgettext("privacy request status", "Completed"),
        "refused": lazy_pgettext("privacy request status", "Refused"),
        "cancelled": lazy_pgettext("privacy request status", "Cancelled"),
    },
    "RequestChannel": {
        "public_form": lazy_pgettext("privacy request channel", "Public form"),
        "officer": lazy_pgettext("privacy request channel", "Privacy officer"),
        "dealer_admin": lazy_pgettext("privacy request channel", "Dealer administrator"),
    },
    "BreachStatus": {
        "open": lazy_pgettext("breach status", "Open"),
        "notified": lazy_pgettext("breach status", "Authority notified"),
        "not_notifiable": lazy_pgettext("breach status", "Not notifiable"),
        "closed": lazy_pgettext("breach status", "Closed"),
    },
    "SubProcessorCategory": {
        "hosting": lazy_pgettext("sub-processor category", "Hosting"),
        "mail": lazy_pgettext("sub-processor category", "E-mail delivery"),
        "backup": lazy_pgettext("sub-processor category", "Backups"),
        "other": lazy_pgettext("sub-processor category", "Other services"),
    },
    "TransferSafeguard": {
        "adequacy": lazy_pgettext("transfer safeguard", "Adequacy decision (GDPR Art. 45)"),
        "scc": lazy_pgettext("transfer safeguard", "Standard contractual clauses (GDPR Art. 46(2)(c))"),
        "bcr": lazy_pgettext("transfer safeguard", "Binding corporate rules (GDPR Art. 47)"),
    },
    "ConsentPurpose": {
        "privacy_notice": lazy_pgettext("consent purpose", "Privacy notice"),
        "marketing": lazy_pgettext("consent purpose", "Marketing"),
    },
    "ConsentAction": {
        "acknowledged": lazy_pgettext("consent action", "Acknowledged"),
        "given": lazy_pgettext("consent action", "Given"),
        "withdrawn": lazy_pgettext("consent action", "Withdrawn"),
    },
    "ConsentMethod": {
        "inquiry_form": lazy_pgettext("consent method", "Inquiry form"),
        "double_opt_in": lazy_pgettext("consent method", "Double opt-in (confirmed by e-mail)"),
        "unsubscribe_link": lazy_pgettext("consent method", "Unsubscribe link"),
        "public_page": lazy_pgettext("consent method", "Public page"),
        "staff": lazy_pgettext("consent method", "Recorded by staff"),
        "objection": lazy_pgettext("consent method", "Objection"),
    },
}


# The privacy request types as the staff name them (request queue, forms, staff mails): with
# their GDPR article.
REQUEST_TYPE_STAFF_LABELS: dict[str, LazyString] = {
    "access": lazy_gettext("Access (Art. 15)"),
    "portability": lazy_gettext("Portability (Art. 20)"),
    "rectification": lazy_gettext("Rectification (Art. 16)"),
    "erasure": lazy_gettext("Erasure (Art. 17)"),
    "restriction": lazy_gettext("Restriction (Art. 18)"),
    "objection": lazy_gettext("Objection to marketing (Art. 21)"),
    "account_export": lazy_gettext("Account export (data export tool)"),
}


def lazy_label(value: enum.Enum) -> LazyString | str:
    """The label of an enum member, translated when it is shown (safe at import time);
    an enum without labels shows its value in words, which the enum-labels test reports."""
    label = LABELS.get(type(value).__name__, {}).get(value.value)
    return label if label is not None else str(value.value).replace("_", " ")


def staff_request_type_label(value: enum.Enum) -> LazyString | str:
    """A privacy request type as the staff name it (lazy); an unknown one as it is."""
    return REQUEST_TYPE_STAFF_LABELS.get(str(value.value), str(value.value))


def enum_label(value: enum.Enum | None) -> str:
    """The translated label of an enum member, now ("" for None)."""
    return "" if value is None else str(lazy_label(value))


def label_of_value(enum_class: type[enum.Enum], raw: object) -> str:
    """The label for a stored value, member or member name (FAB lists hand over ``.value``)."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, enum_class):
        return enum_label(raw)
    try:
        return enum_label(enum_class(raw))
    except ValueError:
        member = enum_class.__members__.get(str(raw))
        return enum_label(member) if member is not None else str(raw)


def choices(enum_class: type[enum.Enum]) -> list[tuple[str, LazyString | str]]:
    """(member name, label) for every member, in declaration order; the labels are lazy,
    so a form may build its choices at import time."""
    return [(member.name, lazy_label(member)) for member in enum_class]


# The phases a privacy job reports (app.privacy.requests.progress), for the request page's progress.
PHASE_LABELS: dict[str, LazyString] = {
    "queued": lazy_pgettext("job phase", "Queued"),
    "exporting": lazy_pgettext("job phase", "Exporting"),
    "erasing": lazy_pgettext("job phase", "Erasing"),
    "notifying": lazy_pgettext("job phase", "Telling recipients"),
    "verifying": lazy_pgettext("job phase", "Verifying"),
    "verification_failed": lazy_pgettext("job phase", "Verification failed"),
    "review": lazy_pgettext("job phase", "Waiting for the privacy officer"),
    "rectifying": lazy_pgettext("job phase", "Correcting"),
    "restricting": lazy_pgettext("job phase", "Restricting"),
    "objection": lazy_pgettext("job phase", "Recording the objection"),
    "done": lazy_pgettext("job phase", "Done"),
}


def phase_label(phase: str | None) -> str:
    """The translated name of a job phase ("" for none; an unknown one as it is)."""
    if not phase:
        return ""
    label = PHASE_LABELS.get(phase)
    return str(label) if label is not None else phase.replace("_", " ")
