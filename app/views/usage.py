"""The usage log, read-only, for internal staff: which signed-in user opened which page.
Tenant-scoped like every view of dealer-owned rows (internal staff see every dealer)."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.domain.formatting import format_datetime
from app.models import PageView
from app.tenancy import TenantModelView


def format_duration(ms: int | None) -> str:
    if ms is None:
        return ""
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes:
        return _("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=seconds)
    return _("%(seconds)d s", seconds=seconds)


class UsageLogView(TenantModelView):
    datamodel = ForecourtInterface(PageView)
    route_base = "/usagelog"
    base_permissions: ClassVar[list[str]] = ["can_list", "can_show"]
    base_order = ("viewed_at", "desc")
    list_title = _l("Usage log")
    show_title = _l("Page view")
    list_columns: ClassVar[list[str]] = ["viewed_at", "user", "feature", "path", "duration_ms", "ip_address"]
    show_columns: ClassVar[list[str]] = [
        "viewed_at",
        "user",
        "feature",
        "path",
        "duration_ms",
        "referrer_origin",
        "user_agent",
        "ip_address",
    ]
    search_columns: ClassVar[list[str]] = ["viewed_at", "user", "feature", "path"]
    label_columns: ClassVar[dict] = {
        "viewed_at": _l("Viewed"),
        "user": _l("User"),
        "feature": _l("Feature"),
        "path": _l("Page"),
        "duration_ms": _l("Time on page"),
        "user_agent": _l("Browser"),
        "ip_address": _l("IP address"),
        "referrer_origin": _l("Referring site"),
    }
    formatters_columns: ClassVar[dict] = {"viewed_at": format_datetime, "duration_ms": format_duration}
