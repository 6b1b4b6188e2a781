"""The ``summary.html`` of an export package, in the person's language.

For a person (access, portability) it holds everything GDPR Art. 15(1) lists, per
category, from the privacy registry's declarations, and names the sub-processors in
service as recipients, by category, with their location, data processing agreement and,
outside the EEA, the transfer's safeguard (Art. 15(1)(c) and 15(2)). For a dealer's account package it
lists the tables, the rows left out, and what happens to a terminated account next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, format_date, format_datetime, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import object_session

from app.domain.enum_labels import enum_label
from app.i18n.languages import dealer_timezone, force_timezone
from app.models import DealerStatus, PrivacyRequest, RequestType
from app.privacy.links import public_url
from app.privacy.requests.export_parts import Part
from app.privacy.transparency.subprocessors import by_category, in_service, transfers

# Titles of account tables that hold no personal data (and so have no declaration).
TABLE_TITLES = {
    "car": _l("Cars"),
    "car_cost": _l("Car costs"),
    "car_photo": _l("Car photos (captions and order; the pictures are in the folder photos/)"),
    "car_price_change": _l("Price history"),
    "car_status_change": _l("Status history"),
    "dealer_social_link": _l("Social links"),
    "retention_event": _l("Account and retention events"),
    "breach_dealer_notice": _l("Breach notices to the dealership"),
}


def render_summary(request: PrivacyRequest, plan: list[Part], counts: dict[str, int], generated_at: datetime, expires_at: datetime) -> str:
    """The summary page of the package: ``plan`` its parts, ``counts`` rows per part."""
    if request.request_type is RequestType.account_export:
        return _render_account_summary(request, plan, counts, generated_at, expires_at)
    config = current_app.config
    categories = [(part.entry, counts[part.name]) for part in plan if part.entry is not None]
    session = object_session(request)
    processors = in_service(session, generated_at.date()) if session is not None else []
    with force_locale(request.language or "en"), force_timezone(dealer_timezone(request.dealer)):
        items = [
            {
                "category": entry.category,
                "title": _text(d.title),
                "purpose": _text(d.purpose),
                "legal_basis": _text(d.legal_basis),
                "recipients": _text(d.recipients),
                "retention": _text(d.retention),
                "source": _text(d.source),
                "keep_reason": _text(d.keep_reason),
                "rows": rows,
                "files": [f"{entry.category}.json", f"{entry.category}.csv"],
            }
            for entry, rows in categories
            for d in (entry.declaration,)
        ]
        return render_template(
            "privacy/export_summary.html",
            request=request,
            language=request.language or "en",
            categories=items,
            total_rows=sum(item["rows"] for item in items),
            controller=request.dealer,
            supervisory_authority=config["SUPERVISORY_AUTHORITY"],
            officer_email=config["PRIVACY_OFFICER_EMAIL"],
            request_url=public_url("/privacy/request"),
            generated_at=format_datetime(generated_at, "long"),
            received_on=format_date(request.received_at, "long"),
            due_on=format_date(request.due_at, "long"),
            original_due_on=format_date(request.original_due_at, "long") if request.original_due_at else None,
            expires_on=format_date(expires_at, "long"),
            request_type=request.request_type.value,
            processors=[(enum_label(category), items) for category, items in by_category(processors)],
            transfers=transfers(processors),
            label=enum_label,
            format_date=format_date,
        )


def _text(value: Any) -> str:
    """A declaration text in the current locale (lazy strings; plain ones via the catalog)."""
    if value is None:
        return ""
    return gettext(value) if isinstance(value, str) and value else str(value)


def _table_title(part: Part) -> str:
    if part.entry is not None:
        return _text(part.entry.declaration.title)
    return str(TABLE_TITLES.get(part.name, part.name.replace("_", " ")))


def _render_account_summary(
    request: PrivacyRequest, plan: list[Part], counts: dict[str, int], generated_at: datetime, expires_at: datetime
) -> str:
    """What is in a dealer's account package, and what happens to the account next."""
    dealer = request.dealer
    terminated = dealer is not None and dealer.status is DealerStatus.terminated
    with force_locale(request.language or "en"), force_timezone(dealer_timezone(dealer)):
        tables = [
            {
                "table": part.name,
                "title": _table_title(part),
                "rows": counts[part.name],
                "left_out": part.left_out,
                "files": [f"{part.name}.json", f"{part.name}.csv"],
            }
            for part in plan
        ]
        return render_template(
            "privacy/account_export_summary.html",
            request=request,
            dealer=dealer,
            language=request.language or "en",
            tables=tables,
            total_rows=sum(item["rows"] for item in tables),
            left_out=sum(item["left_out"] for item in tables),
            officer_email=current_app.config["PRIVACY_OFFICER_EMAIL"],
            generated_at=format_datetime(generated_at, "long"),
            expires_on=format_date(expires_at, "long"),
            terminated=terminated,
            terminated_on=format_date(dealer.terminated_at, "long") if terminated and dealer.terminated_at else None,
            deletion_on=format_date(dealer.account_deletion_due_at, "long") if terminated and dealer.account_deletion_due_at else None,
            erasure_on=format_date(dealer.records_erasure_due_at, "long") if terminated and dealer.records_erasure_due_at else None,
        )
