"""The retention log, read-only: every sweep run and account step, newest first.

Tenant-scoped like every view of a table with ``dealer_id``: the privacy officer and
Admin see every event; a dealer user, were it ever granted, only its own dealer's."""

from __future__ import annotations

import json
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.datamodel import ForecourtInterface
from app.domain.formatting import format_datetime
from app.models import RetentionEvent
from app.privacy.lifecycle.retention import SWEEPS
from app.tenancy import TenantModelView

KIND_LABELS = {
    "sweep": _l("Sweep"),
    "sweep_failed": _l("Sweep failed"),
}
ACTION_LABELS = {
    "deleted": _l("deleted"),
    "anonymised": _l("anonymised"),
    "kept_restricted": _l("kept (restricted)"),
    "orphan_deleted": _l("stray files deleted"),
    "queued": _l("queued"),
    "reminded_due_soon": _l("reminded: due soon"),
    "reminded_overdue": _l("reminded: overdue"),
    "re_enqueued": _l("queued again"),
    "failed": _l("failed"),
}


def kind_display(kind: str | None) -> str:
    return str(KIND_LABELS.get(kind, kind or ""))


def sweep_display(name: str | None) -> str:
    sweep = SWEEPS.get(name or "")
    return str(sweep.title) if sweep else (name or "")


def summary_display(summary: dict | None) -> Markup:
    """Rows per table per action as a short list; nothing done says so."""
    if not summary:
        return Markup('<span class="text-muted">{}</span>').format(_l("nothing due"))
    items = []
    for table, actions in summary.items():
        if isinstance(actions, dict):
            done = ", ".join(f"{ACTION_LABELS.get(action, action)!s} {count}" for action, count in actions.items())
        else:
            done = str(actions)
        items.append(Markup("<li><code>{}</code>: {}</li>").format(table, done))
    return Markup('<ul class="list-unstyled retention-summary">') + Markup("").join(items) + Markup("</ul>")


def certificate_display(certificate: dict | None) -> Markup:
    if not certificate:
        return Markup("")
    return Markup('<pre class="mail-body">{}</pre>').format(json.dumps(certificate, indent=2, ensure_ascii=False, default=str))


class RetentionEventView(TenantModelView):
    datamodel = ForecourtInterface(RetentionEvent)
    route_base = "/retentionlog"
    base_permissions: ClassVar[list[str]] = ["can_list", "can_show"]
    base_order = ("occurred_at", "desc")
    list_title = _l("Retention log")
    show_title = _l("Retention event")
    list_columns: ClassVar[list[str]] = ["occurred_at", "kind", "sweep", "as_of", "dealer_id", "user_id", "summary"]
    show_columns: ClassVar[list[str]] = ["occurred_at", "kind", "sweep", "as_of", "dealer_id", "user_id", "actor", "summary", "certificate"]
    search_columns: ClassVar[list[str]] = ["kind", "sweep", "as_of", "occurred_at", "dealer_id", "user_id"]
    order_columns: ClassVar[list[str]] = ["occurred_at", "as_of", "kind", "sweep"]
    label_columns: ClassVar[dict] = {
        "occurred_at": _l("When"),
        "kind": _l("Kind"),
        "sweep": _l("Sweep"),
        "as_of": _l("As of"),
        "dealer_id": _l("Dealer id"),
        "user_id": _l("User id"),
        "actor": _l("By"),
        "summary": _l("Rows per table"),
        "certificate": _l("Certificate"),
        "dry_run": _l("Dry run"),
    }
    formatters_columns: ClassVar[dict] = {
        "occurred_at": format_datetime,
        "as_of": format_datetime,
        "kind": kind_display,
        "sweep": sweep_display,
        "summary": summary_display,
        "certificate": certificate_display,
    }
