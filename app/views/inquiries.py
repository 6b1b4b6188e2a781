"""Inquiries and the pipeline; "Make client" turns an inquiry into the dealer's client."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.bulk_editing import BulkEditViewMixin
from app.datamodel import ForecourtInterface
from app.domain.finding import EMAIL, PHONE, TEXT, VIN
from app.domain.formatting import format_datetime
from app.extensions import db
from app.mail.new_inquiry import notify_new_inquiry
from app.models import Inquiry
from app.models.sales_flow import make_client_from_inquiry, mark_seen
from app.restriction import refuse_restricted
from app.saving import saving
from app.signed_in import current_user
from app.tenancy import TenantModelView, current_dealer_id
from app.views.labels import INQUIRY_LABELS
from app.views.record_links import link_to

log = logging.getLogger(__name__)


class InquiryModelView(BulkEditViewMixin, TenantModelView):
    bulk_kind = "inquiry"
    datamodel = ForecourtInterface(Inquiry)
    list_title = _l("Inquiries")
    show_title = _l("Inquiry")
    add_title = _l("Add an inquiry")
    edit_title = _l("Edit inquiry")
    list_narrow_columns = ["name", "status"]  # on a phone
    list_columns = ["received_at", "name", "car", "client", "status", "source", "assigned_user"]
    search_columns = ["name", "email", "phone", "status", "source", "car", "client", "assigned_user", "received_at"]
    quick_search_columns = {"name": TEXT, "email": EMAIL, "phone": PHONE, "car.stock_number": TEXT, "car.vin": VIN}
    _fields = ["car", "client", "name", "email", "phone", "message", "source", "status", "assigned_user", "first_response_at"]
    add_columns = ["dealer"] + _fields
    edit_columns = _fields
    show_fieldsets = [
        (_l("Inquiry"), {"fields": ["received_at", "name", "email", "phone", "message", "car", "client", "source"]}),
        (_l("Pipeline"), {"fields": ["status", "assigned_user", "first_response_at"]}),
        (_l("Technical"), {"fields": ["ip_address", "user_agent"], "expanded": False}),
    ]
    formatters_columns = {
        "received_at": format_datetime,
        "first_response_at": format_datetime,
        "car": lambda car: link_to("CarModelView.show", car),
        "client": lambda client: link_to("ClientModelView.show", client),
    }
    base_order = ("received_at", "desc")
    picker_search = True  # large tables: the pickers search as you type
    add_template = "forecourt/picker_form_add.html"
    edit_template = "forecourt/picker_form_edit.html"
    label_columns = INQUIRY_LABELS

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """A dealer user opening the inquiry takes it off the menu's unread count."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None and current_dealer_id() is not None and mark_seen(item):
            db.session.commit()
        return super().show(pk)

    def post_add(self, item):
        """Staff entered an inquiry: the dealer's other users are told (one more commit
        after FAB's, so a mail failure never loses the inquiry)."""
        user = current_user()
        notify_new_inquiry(db.session, item, except_user_id=getattr(user, "id", None))
        db.session.commit()

    @expose("/make_client/<pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def make_client(self, pk):
        """Link the inquiry to the dealer's client with its e-mail or phone, else create
        that client; one transaction. Then show the client."""
        inquiry = self.datamodel.get(pk, self._base_filters)
        if inquiry is None:
            abort(404)
        if not self.appbuilder.sm.has_access("can_add", "ClientModelView"):
            abort(403)
        with saving() as saved:
            refuse_restricted(inquiry)
            result = make_client_from_inquiry(db.session, inquiry)
        if not saved.ok:
            return redirect(url_for("InquiryModelView.show", pk=pk))
        log.info("inquiry %s linked to client %s (created: %s)", inquiry.id, result.client.id, result.created)
        if result.created:
            flash(_("Client %(name)s created from the inquiry.", name=result.client.full_name), "success")
        else:
            flash(_("The inquiry is now linked to the existing client %(name)s.", name=result.client.full_name), "success")
        return redirect(url_for("ClientModelView.show", pk=result.client.id))
