"""What the privacy request queue and a request's page show: masked subjects, scope and
due-date badges, the queue's order and derived columns, the erasure preview table, and
the progress JSON and export download the page polls and serves (the dealer's Account
page reuses both)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import case

from app.datamodel import ForecourtInterface
from app.domain.enum_labels import phase_label
from app.domain.formatting import format_date
from app.models import CLOSED_STATUSES, PrivacyRequest
from app.privacy.registry import entry_for
from app.privacy.requests import intake as request_service
from app.privacy.requests.progress import percent
from app.privacy.requests.subjects import mask
from app.queueing import job_meta
from app.views.privacy_forms import REQUEST_TYPE_LABELS, STATUS_LABELS
from app.views.privacy_words import when

DUE_BADGES = {
    "overdue": ("label-danger", _l("Overdue")),
    "due_soon": ("label-warning", _l("Due soon")),
}


def subject_display(item: PrivacyRequest) -> str:
    """The masked form: lists never show a full identifier."""
    return item.subject_hint or mask(item.subject_email) or mask(item.subject_phone) or "—"


def scope_display(item: PrivacyRequest) -> str:
    return item.dealer.business_name if item.dealer is not None else str(_("Whole platform"))


def due_badge(item: PrivacyRequest) -> Markup:
    state = request_service.due_state(item)
    text = escape(format_date(item.due_at.date()))
    if state in DUE_BADGES:
        css, label = DUE_BADGES[state]
        return Markup('{} <span class="label {} privacy-due-{}">{}</span>').format(text, css, state, label)
    return Markup(text)


def duplicate_marker(item: PrivacyRequest) -> Markup:
    if item.possible_duplicate_of_id is None:
        return Markup("")
    return Markup('<span class="label label-info privacy-duplicate" title="{}">{}</span>').format(
        _("Possible duplicate of an earlier request"), _("Possible duplicate")
    )


VIRTUAL_COLUMNS: dict[str, Callable[[PrivacyRequest], object]] = {
    "type_display": lambda item: REQUEST_TYPE_LABELS[item.request_type],
    "status_display": lambda item: STATUS_LABELS[item.status],
    "scope": scope_display,
    "subject": subject_display,
    "due": due_badge,
    "duplicate": duplicate_marker,
}


class PrivacyRequestInterface(ForecourtInterface):
    """The queue's data: open requests first, each by due date; the list's derived columns."""

    def apply_order_by(self, query, order_column, order_direction, *args, **kwargs):
        if order_column == "due_at":
            query = query.order_by(case((PrivacyRequest.status.in_(CLOSED_STATUSES), 1), else_=0))
        return super().apply_order_by(query, order_column, order_direction, *args, **kwargs)

    def _get_attr_value(self, item, col):
        virtual = VIRTUAL_COLUMNS.get(col)
        if virtual is not None:
            return virtual(item)
        return super()._get_attr_value(item, col)


def status_response(item: PrivacyRequest):
    """The progress JSON a request's page polls: the database's view plus the job's meta."""
    meta = {key: getattr(value, "value", value) for key, value in job_meta(item.id).items()}
    response = jsonify(
        status=item.status.value,
        phase=item.phase,
        phase_label=phase_label(item.phase),
        progress_done=item.progress_done,
        progress_total=item.progress_total,
        percent=percent(item),
        failure=item.failure,
        job=meta,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def preview_table(preview: dict | None) -> dict | None:
    """The stored erasure preview, ready for the page: one row per table with the
    category's title, then the totals and what else the erasure touches."""
    if not preview:
        return None
    rows = []
    for table in preview.get("tables") or []:
        entry = entry_for(table.get("table", ""))
        row = {**table, "title": declared_text(entry.declaration.title) if entry is not None else table.get("table")}
        # The stored texts are in the language of whoever made the preview: re-read them
        # from the declaration in the reader's language.
        for key in ("legal_basis", "keep_reason"):
            if row.get(key) and entry is not None and getattr(entry.declaration, key, None):
                row[key] = declared_text(getattr(entry.declaration, key))
        rows.append(row)
    return {
        "rows": rows,
        "totals": preview.get("totals") or {},
        "generated_at": when(preview["generated_at"]) if preview.get("generated_at") else None,
        "open_requests": preview.get("open_requests") or 0,
        "export_files": preview.get("export_files") or 0,
        "recipients": preview.get("recipients") or 0,
    }


def declared_text(text) -> str:
    """A registry declaration's text in the reader's language (declarations hold lazy
    strings, or plain ones where Babel is not set up yet)."""
    return _(text) if isinstance(text, str) else str(text)


def export_download(item: PrivacyRequest, actor_id: int | None):
    """The export ZIP, never cached, each download logged; a 404 when there is none."""
    from app.privacy.requests.export_files import ExportUnavailable
    from app.public.downloads import download_response

    try:
        return download_response(item, actor_id=actor_id)
    except ExportUnavailable:
        abort(404)
