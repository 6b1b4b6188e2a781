"""A privacy request's history, failure and certificate in the reader's words: each event
as a translated sentence with its details as labelled, formatted values (dates in the
reader's time zone, table names as the categories people know, counts as numbers), the
failure of a job as a translated sentence, the erasure certificate as tables. Events hold
codes and counts only (``intake.record_event``), so everything here is presentation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import format_decimal, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.enum_labels import label_of_value, phase_label, staff_request_type_label
from app.domain.formatting import format_date, format_datetime
from app.models import RequestChannel, RequestType
from app.privacy.registry import entry_for

EVENT_LABELS = {
    "received": _l("Request received"),
    "filed_again": _l("Filed again by the person"),
    "verified": _l("Identity verified"),
    "possible_duplicate": _l("Flagged as a possible duplicate"),
    "extended": _l("Deadline extended"),
    "refused": _l("Request refused"),
    "cancelled": _l("Request cancelled"),
    "started": _l("Processing started"),
    "completed": _l("Request completed"),
    "downloaded": _l("Export downloaded"),
    "export_deleted": _l("Export deleted"),
    "exports_deleted": _l("Earlier exports deleted"),
    "erasure_previewed": _l("Erasure previewed"),
    "verification_failed": _l("Verification scan found data left"),
    "rectification_proposed": _l("Corrections proposed"),
    "rectification_failed": _l("Corrections not applied"),
    "rectified": _l("Corrections applied"),
    "recipients_notified": _l("Recipients told (Art. 19)"),
    "possible_other_person": _l("Possible other person found"),
    "possible_match_confirmed": _l("Same person: erased too"),
    "possible_match_dismissed": _l("Another person: left untouched"),
    "restricted": _l("Data restricted"),
    "restriction_outcome": _l("Outcome of the restriction"),
    "restriction_lift_requested": _l("Lifting of the restriction requested"),
    "restriction_lifted": _l("Restriction lifted"),
    "marketing_objection_recorded": _l("Objection to marketing recorded"),
    "usage_objection_recorded": _l("Objection to usage logging recorded"),
    "deadline_reminder": _l("Deadline reminder sent"),
}

DETAIL_LABELS = {
    "channel": _l("Channel"),
    "type": _l("Type"),
    "method": _l("Method"),
    "of_request": _l("Earlier request"),
    "new_due": _l("New due date"),
    "due": _l("Due"),
    "phase": _l("Step"),
    "count": _l("Number"),
    "reason": _l("Reason"),
    "hits": _l("Found in"),
    "undeclared": _l("Columns not declared personal"),
    "changes": _l("Changes"),
    "columns": _l("Fields"),
    "stale": _l("Changed since the proposal"),
    "action": _l("Action"),
    "notified": _l("Recipients told"),
    "to_notify_by_other_means": _l("To be told by other means"),
    "table": _l("Data"),
    "row": _l("Record"),
    "rows": _l("Records"),
    "newly_restricted": _l("Newly restricted"),
    "usage_log_stopped": _l("Usage logging stopped for users"),
    "categories": _l("Categories"),
    "nothing_restricted": _l("Nothing to restrict"),
    "nothing_applied": _l("Nothing to apply"),
    "clients": _l("Clients"),
    "consents_withdrawn": _l("Consents withdrawn"),
    "users": _l("Users"),
    "page_views_restricted": _l("Page views restricted"),
    "state": _l("State"),
    "recipients": _l("Recipients"),
    "open_requests": _l("Other open requests"),
    "delete": _l("Deleted"),
    "anonymise": _l("Anonymised"),
    "keep": _l("Kept"),
    "ledger_entries": _l("Records erased or anonymised"),
    "files": _l("Files"),
    "size": _l("Size in bytes"),
    "restricted": _l("Restricted"),
}

CODE_LABELS = {
    "contact details on file": _l("contact details on file"),
    "e-mail link": _l("the link in the e-mail"),
    "erasure": _l("erasure"),
    "rectification": _l("rectification"),
    "restriction": _l("restriction"),
    "account_deleted": _l("account deleted"),
    "expired": _l("expired"),
    "overdue": _l("overdue"),
    "due_soon": _l("due soon"),
    "usage_log_stopped": _l("usage logging stopped"),
    "kept": lazy_pgettext("restriction outcome", "kept"),
    "confirmed": _l("the same person"),
    "dismissed": _l("another person"),
}

ACTOR_LABELS = {"system": _l("Forecourt"), "requester": _l("The person"), "user": _l("A user")}


def table_title(table: str) -> str:
    """The category people know ("Clients") for a table name."""
    entry = entry_for(table)
    if entry is None:
        return table.replace("_", " ")
    title = entry.declaration.title
    return _(title) if isinstance(title, str) else str(title)


def when(value: Any) -> str:
    """A stored ISO time (or date) in the reader's time zone and locale."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return format_datetime(parsed) if isinstance(value, str) and "T" in value else format_date(parsed.date())


def _number(value: Any) -> str:
    return format_decimal(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _code(value: Any) -> str:
    label = CODE_LABELS.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else _plain(value)


def _per_table(value: dict) -> str:
    return ", ".join(f"{table_title(table)}: {_number(count)}" for table, count in sorted(value.items()))


def _columns(value: list) -> str:
    named = []
    for item in value:
        table, _dot, column = str(item).partition(".")
        named.append(f"{table_title(table)} · {column.replace('_', ' ')}" if column else table_title(table))
    return ", ".join(named)


def _stale(value: list) -> str:
    return "; ".join(
        f"{table_title(c.get('table', ''))} #{c.get('pk')} · {str(c.get('column', '')).replace('_', ' ')}"
        + (f" ({_('the record no longer exists')})" if c.get("missing") else "")
        for c in value
    )


def _categories(value: list) -> str:
    return "; ".join(f"{table_title(line.get('table', ''))}: {_code(line.get('action'))}, {_number(line.get('rows', 0))}" for line in value)


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return _per_table(value)
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "—"
    return _number(value)


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "channel": lambda v: label_of_value(RequestChannel, v) or str(v),
    "type": lambda v: str(staff_request_type_label(RequestType(v))) if v in RequestType.__members__ else str(v),
    "phase": lambda v: phase_label(v) or str(v),
    "new_due": when,
    "due": when,
    "of_request": lambda v: f"#{v}",
    "table": table_title,
    "hits": lambda v: _per_table(v) if isinstance(v, dict) else _plain(v),
    "undeclared": _columns,
    "columns": _columns,
    "stale": _stale,
    "categories": _categories,
}


def detail_rows(data: dict | None) -> list[tuple[str, str]]:
    """(label, formatted value) for each detail of an event, in a stable order."""
    rows = []
    for key, value in (data or {}).items():
        label = DETAIL_LABELS.get(key)
        formatter = FORMATTERS.get(key)
        text = formatter(value) if formatter is not None else _code(value)
        rows.append((str(label) if label is not None else key.replace("_", " ").capitalize(), text))
    return rows


def event_rows(events) -> list[dict[str, Any]]:
    """The request's history for the page: when, who, what, and the details."""
    return [
        {
            "kind": event.kind,
            "at": format_datetime(event.at),
            "who": event.actor.username if event.actor is not None else str(ACTOR_LABELS.get(event.actor_label, event.actor_label or "")),
            "what": str(EVENT_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize())),
            "details": detail_rows(event.data),
        }
        for event in events
    ]


def failure_text(item, events) -> str | None:
    """Why the job stopped, in the reader's language, from the events' codes (the stored
    ``failure`` is the log's English); the stored text when no event explains it."""
    if not item.failure:
        return None
    for event in reversed(list(events)):
        data = event.data or {}
        if event.kind == "verification_failed":
            text = _("The verification scan still found the person's identifiers in: %(found)s.", found=_per_table(data.get("hits") or {}))
            if data.get("undeclared"):
                text += " " + _("Columns the registry does not declare personal: %(columns)s.", columns=_columns(data["undeclared"]))
            return text
        if event.kind == "rectification_failed":
            return _("The data changed after the corrections were proposed; nothing was applied. Propose them again.")
    return str(item.failure)


def certificate_view(certificate: dict | None) -> dict[str, Any] | None:
    """The erasure certificate as the page shows it: a summary, a row per table, the scan."""
    if not certificate:
        return None
    verification = dict(certificate.get("verification") or {})
    summary = [
        (_("Reference"), str(certificate.get("reference", "—"))),
        (_("Completed"), when(certificate.get("completed_at")) if certificate.get("completed_at") else "—"),
        (_("Records erased or anonymised"), _number(certificate.get("ledger_entries", 0))),
    ]
    tables = [
        {"title": table_title(table), "table": table, "counts": counts} for table, counts in (certificate.get("tables") or {}).items()
    ]
    scan = [
        (_("Scanned at"), when(verification["scanned_at"]) if verification.get("scanned_at") else "—"),
        (_("Tables scanned"), _number(verification.get("tables_scanned", 0))),
        (_("Columns scanned"), _number(verification.get("columns_scanned", 0))),
        (_("Columns not declared personal, scanned too"), _number(verification.get("undeclared_columns_scanned", 0))),
        (_("Identifiers found after the erasure"), _number(verification.get("hits", 0))),
    ]
    kept = verification.get("kept_on_purpose") or {}
    if kept:
        scan.append((_("Kept on purpose"), _columns(sorted(kept)) if isinstance(kept, dict) else _plain(kept)))
    others = verification.get("possible_other_people") or {}
    if others:
        scan.append((_("Possible other people"), ", ".join(f"{_code(k)}: {_number(v)}" for k, v in sorted(others.items()))))
    return {"summary": summary, "tables": tables, "scan": scan}
