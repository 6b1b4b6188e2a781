"""The privacy officer's (and, for its own clients, the dealer admin's) request queue and
each request's page with its actions.

Thin: every rule lives in ``app.privacy``. Each action re-loads the request through the
tenant filter (another dealer's request is a 404), runs one service call, and commits;
a rule a person broke is shown as an error and rolls everything back (``app.saving``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.domain import DomainError
from app.domain.formatting import format_datetime
from app.extensions import db
from app.models import PrivacyRequest, RequestStatus, RequestType
from app.privacy.registry import entry_for
from app.privacy.requests import erasure_preview, lookalikes, rectification, restriction
from app.privacy.requests import intake as request_service
from app.privacy.requests.on_behalf import file_on_behalf, not_queued_message
from app.privacy.requests.processing import request_processing
from app.privacy.requests.progress import percent
from app.privacy.requests.subjects import Subject, rows_of
from app.queueing import try_enqueue_request
from app.saving import saving
from app.tenancy import TenantModelView, current_dealer_id, current_user, is_dealer_user
from app.views.privacy_display import (
    PrivacyRequestInterface,
    due_badge,
    export_download,
    preview_table,
    scope_display,
    status_response,
)
from app.views.privacy_forms import (
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    WHOLE_PLATFORM,
    ConfirmForm,
    ExtendForm,
    FileRequestForm,
    LookalikeForm,
    ReasonForm,
    new_due_at,
)
from app.views.privacy_words import certificate_view, event_rows, failure_text, table_title


class PrivacyRequestView(TenantModelView):
    """The queue of data-subject requests and each request's page."""

    datamodel = PrivacyRequestInterface(PrivacyRequest)
    route_base = "/privacyrequestview"
    list_title = _l("Privacy requests")
    show_title = _l("Privacy request")
    add_title = _l("File a privacy request")
    # Append-only history: no edit, no delete; the actions below are the only writes.
    base_permissions = ["can_list", "can_show", "can_add", "can_process", "can_decide", "can_download_export"]
    exclude_route_methods = {"edit", "delete", "download", "action", "action_post"}
    list_columns = ["reference", "type_display", "status_display", "scope", "subject", "received_at", "due", "duplicate"]
    search_columns = ["reference", "request_type", "status", "channel", "dealer", "received_at", "due_at"]
    base_order = ("due_at", "asc")
    order_columns = ["reference", "received_at", "due_at"]
    formatters_columns = {"received_at": format_datetime}
    label_columns = {
        "reference": _l("Reference"),
        "request_type": _l("Type"),
        "type_display": _l("Type"),
        "status": _l("Status"),
        "status_display": _l("Status"),
        "channel": _l("Channel"),
        "dealer": _l("Dealer"),
        "scope": _l("Scope"),
        "subject": _l("Person"),
        "received_at": _l("Received"),
        "due_at": _l("Due"),
        "due": _l("Due"),
        "duplicate": _l("Duplicate?"),
    }
    request_template = "privacy/request.html"
    add_template = "privacy/add.html"

    # ------------------------------------------------------------------ reading

    def _item(self, pk: int) -> PrivacyRequest:
        """The request, if the current user may see it; another dealer's is a 404."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._render(self._item(_int(pk)))

    @expose("/status/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("show")
    def status(self, pk):
        """What the progress bar polls: the database's view, plus the job's own meta."""
        return status_response(self._item(pk))

    def _render(self, item: PrivacyRequest, status: int = 200, **forms):
        forms.setdefault("extend_form", ExtendForm(prefix="extend"))
        forms.setdefault("refuse_form", ReasonForm(prefix="refuse"))
        html = self.render_template(
            self.request_template,
            title=self.show_title,
            item=item,
            type_label=REQUEST_TYPE_LABELS[item.request_type],
            status_label=STATUS_LABELS[item.status],
            scope=scope_display(item),
            due_state=request_service.due_state(item),
            due_badge=due_badge(item),
            percent=percent(item),
            preview=preview_table(item.erasure_preview),
            events=event_rows(item.events),
            failure=failure_text(item, item.events),
            certificate=certificate_view(item.certificate),
            table_title=table_title,
            rectification=self._rectification_rows(item),
            rectification_diff=rectification.diff(item, db.session) if item.rectification_proposal else [],
            lookalikes=self._lookalikes(item),
            may_decide_lookalikes=not is_dealer_user(current_user()),
            confirm_form=ConfirmForm(),
            RequestStatus=RequestStatus,
            RequestType=RequestType,
            format_datetime=format_datetime,
            **forms,
        )
        return html, status

    def _lookalikes(self, item: PrivacyRequest) -> list[dict]:
        """The possible other people waiting for the officer, with what to compare."""
        if item.request_type is not RequestType.erasure or item.status is not RequestStatus.in_progress:
            return []
        return [lookalikes.describe(db.session, found) for found in lookalikes.pending(db.session, item)]

    def _rectification_rows(self, item: PrivacyRequest) -> list[tuple[str, object, list[tuple[str, object, object]]]] | None:
        """The subject's correctable rows (table, row, [(column, current, proposed)]);
        None when the request takes no corrections (now)."""
        if item.request_type is not RequestType.rectification or item.status is not RequestStatus.verified:
            return None
        proposed = {(c["table"], str(c["pk"]), c["column"]): c.get("new") for c in item.rectification_proposal or []}
        subject = Subject.of(item)
        found = []
        for table, columns in rectification.editable_columns().items():
            for row in db.session.scalars(rows_of(entry_for(table), subject, db.session)):
                values = [(column, getattr(row, column), proposed.get((table, str(row.id), column))) for column in columns]
                found.append((table, row, values))
        return found

    # ------------------------------------------------------------------ filing

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        dealer_id = current_dealer_id()
        form = FileRequestForm()
        form.scope_for(db.session, dealer_id)
        if form.validate_on_submit():
            with saving(form) as saved:
                item = file_on_behalf(
                    db.session,
                    dealer_id=dealer_id,
                    actor_id=_actor_id(),
                    request_type=form.request_type.data,
                    email=form.email.data,
                    phone=form.phone.data,
                    name=form.name.data,
                    chosen_dealer_id=_optional_int(form.dealer.data) if "dealer" in form else None,
                    client_id=_optional_int(form.client.data) if "client" in form else None,
                    details=form.details.data,
                    language=form.language.data,
                )
            if saved.ok:
                flash(_("Request %(reference)s filed.", reference=item.reference), "success")
                return redirect(url_for(f"{type(self).__name__}.show", pk=item.id))
        return self.render_template(self.add_template, title=self.add_title, form=form), 422 if form.errors else 200

    # ------------------------------------------------------------------ actions

    def _act(self, pk: int, action: Callable[[PrivacyRequest], str | None], form=None, form_name: str | None = None):
        """Run ``action`` on the request in one transaction; a broken rule changes nothing."""
        item = self._item(pk)
        form = form or ConfirmForm()
        if not form.validate_on_submit():
            flash(_("Please check the form."), "danger")
            return self._render(item, 422, **({form_name: form} if form_name else {}))
        with saving(form) as saved:
            message = action(item)
        if not saved.ok:
            return self._render(self._item(pk), 422, **({form_name: form} if form_name else {}))
        if message:
            flash(message, "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

    def _enqueue_after(self, item: PrivacyRequest, run: Callable[[], None]) -> str | None:
        run()
        db.session.commit()  # the request is committed before its job is enqueued
        if not try_enqueue_request(item.id).queued:
            flash(str(not_queued_message(item.reference)), "warning")
            return None
        return _("Processing of %(reference)s has started.", reference=item.reference)

    @expose("/process/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("process")
    def process(self, pk):
        def run(item):
            if item.request_type is RequestType.erasure and item.status is not RequestStatus.in_progress:
                raise DomainError(_l("Look at the erasure preview before you confirm it."))
            return self._enqueue_after(item, lambda: request_processing(db.session, item, _actor_id()))

        return self._act(pk, run)

    @expose("/preview/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("process")
    def preview(self, pk):
        def run(item):
            _require_type(item, RequestType.erasure)
            erasure_preview.preview(db.session, item, actor_id=_actor_id())
            return _("The erasure preview is ready: check it, then confirm.")

        return self._act(pk, run)

    @expose("/erase/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("process")
    def erase(self, pk):
        def run(item):
            _require_type(item, RequestType.erasure)
            return self._enqueue_after(item, lambda: request_processing(db.session, item, _actor_id(), confirm_erasure=True))

        return self._act(pk, run)

    @expose("/lookalike/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("decide")
    def lookalike(self, pk):
        """The privacy officer decides on a possible other person; the last decision
        queues the erasure again, to complete it."""
        if is_dealer_user(current_user()):
            abort(403)  # a dealer's staff do not judge who a person is: the privacy officer does
        form = LookalikeForm()

        def run(item):
            left = lookalikes.decide(db.session, item, form.table.data, form.row.data, form.decision.data, _actor_id())
            if left:
                return ngettext(
                    "Decision recorded. %(num)d possible other person is left.",
                    "Decision recorded. %(num)d possible other people are left.",
                    len(left),
                )
            return self._enqueue_after(item, lambda: None)

        return self._act(pk, run, form)

    @expose("/rectify/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("process")
    def rectify(self, pk):
        def run(item):
            _require_type(item, RequestType.rectification)
            changes = self._typed_changes(item)
            if not changes:
                raise DomainError(_l("Enter at least one corrected value."))
            rectification.propose(db.session, item, changes, _actor_id())
            return _("The corrections are saved: check old and new values, then process the request.")

        return self._act(pk, run)

    def _typed_changes(self, item: PrivacyRequest) -> list[dict]:
        """New values typed on the page (``new-<table>-<pk>-<column>``) for the subject's rows."""
        changes = []
        for table, row, columns in self._rectification_rows(item) or []:
            for column, old, _proposed in columns:
                new = (request.form.get(f"new-{table}-{row.id}-{column}") or "").strip()
                if new and new != (old or ""):
                    changes.append({"table": table, "pk": row.id, "column": column, "new": new})
        return changes

    @expose("/extend/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("decide")
    def extend(self, pk):
        form = ExtendForm(prefix="extend")

        def run(item):
            request_service.extend(db.session, item, new_due_at(item, form.new_due.data), form.reason.data, actor_id=_actor_id())
            return _("The deadline is extended; the person will be told why.")

        return self._act(pk, run, form, "extend_form")

    @expose("/refuse/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("decide")
    def refuse(self, pk):
        form = ReasonForm(prefix="refuse")

        def run(item):
            request_service.refuse(db.session, item, form.reason.data, actor_id=_actor_id())
            return _("The request is refused; the person will be told why and where to complain.")

        return self._act(pk, run, form, "refuse_form")

    @expose("/cancel/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("decide")
    def cancel(self, pk):
        def run(item):
            request_service.cancel(db.session, item, actor_id=_actor_id())
            return _("The request is cancelled.")

        return self._act(pk, run)

    @expose("/lift/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("process")
    def lift(self, pk):
        def run(item):
            if item.request_type is not RequestType.restriction or item.status is not RequestStatus.completed:
                raise DomainError(_l("Only a completed restriction can be lifted."))
            restriction.request_lift(db.session, item, _actor_id())
            return _("The person is told first; the restriction is lifted afterwards.")

        return self._act(pk, run)

    @expose("/export/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("download_export")
    def export(self, pk):
        return export_download(self._item(pk), _actor_id())


def _require_type(item: PrivacyRequest, request_type: RequestType) -> None:
    if item.request_type is not request_type:
        raise DomainError(_l("This action does not apply to this kind of request."))


def _actor_id() -> int | None:
    return getattr(current_user(), "id", None)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404)


def _optional_int(value) -> int | None:
    return None if value in (None, WHOLE_PLATFORM) else int(value)
