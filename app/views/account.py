"""A dealer's Account page (the data export tool and termination) and the termination
that Staff perform from the dealer page. Thin: the rules live in ``app.privacy.lifecycle`` (termination, account_export)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.domain import DomainError
from app.domain.formatting import format_datetime
from app.extensions import db
from app.models import Dealer, DealerStatus, PrivacyRequest, RequestStatus, RequestType
from app.privacy.lifecycle import account_export, termination
from app.privacy.requests.progress import percent
from app.saving import saving
from app.tenancy import NO_DEALER, current_dealer_id, current_user
from app.views.privacy_display import export_download, status_response
from app.views.privacy_forms import ConfirmForm


class TerminateForm(FlaskForm):
    """Typing the slug is the confirmation: a click alone never ends an account."""

    slug = StringField(
        _l("Type the slug of the dealership to confirm"),
        validators=[InputRequired(message=_l("Type the slug of the dealership to confirm."))],
    )
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class StaffTerminateForm(TerminateForm):
    reason = TextAreaField(
        _l("Reason (the dealer is told)"),
        validators=[InputRequired(message=_l("Give the reason for the termination.")), Length(max=500)],
    )


def _actor_id() -> int | None:
    return getattr(current_user(), "id", None)


def _slug_matches(form: TerminateForm, dealer: Dealer) -> bool:
    if (form.slug.data or "").strip().lower() == dealer.slug:
        return True
    form.slug.errors = list(form.slug.errors or []) + [_("Type the slug exactly as shown: %(slug)s", slug=dealer.slug)]
    return False


def _terminate(form: TerminateForm, dealer: Dealer) -> bool:
    """Terminate after the typed confirmation; False (nothing changed) on any error."""
    if not form.validate_on_submit() or not _slug_matches(form, dealer):
        flash(_("Please check the form."), "danger")
        return False
    with saving() as saved:  # the export's job is queued after this commit
        termination.terminate_dealer(db.session, dealer.id, _actor_id(), form.reason.data)
    return saved.ok


def _consequences() -> dict:
    return {"deletion_days": termination.deletion_delay().days, "record_years": termination.record_years()}


class AccountView(BaseView):
    """The dealer admin's account: export all data any time; terminate the account."""

    route_base = "/account"
    default_view = "show"
    template = "account/account.html"

    def _dealer(self) -> Dealer | None:
        dealer_id = current_dealer_id()
        if dealer_id is None or dealer_id == NO_DEALER:
            return None
        return db.session.get(Dealer, dealer_id)

    def _own_dealer(self) -> Dealer:
        dealer = self._dealer()
        if dealer is None or dealer.status is not DealerStatus.active:
            abort(404)
        return dealer

    def _render(self, dealer: Dealer | None, form: TerminateForm | None = None, status: int = 200):
        exports = account_export.account_exports(db.session, dealer.id) if dealer is not None else []
        current = exports[0] if exports else None
        html = self.render_template(
            self.template,
            title=_("Account"),
            dealer=dealer,
            exports=exports,
            current=current,
            percent=percent(current) if current is not None else 0,
            form=form or TerminateForm(),
            confirm_form=ConfirmForm(),
            RequestStatus=RequestStatus,
            format_datetime=format_datetime,
            **_consequences(),
        )
        return html, status

    @expose("/")
    @has_access
    def show(self):
        return self._render(self._dealer())

    @expose("/export", methods=["POST"])
    @has_access
    @permission_name("export")
    def export(self):
        dealer = self._own_dealer()
        if not ConfirmForm().validate_on_submit():
            flash(_("Please check the form."), "danger")
            return self._render(dealer, status=422)
        with saving() as saved:  # the job is queued after this commit
            item = account_export.request_account_export(db.session, dealer.id, _actor_id())
        if not saved.ok:
            return self._render(self._own_dealer(), status=422)
        flash(_("The export %(reference)s is being made; this page shows how far it is.", reference=item.reference), "success")
        return redirect(url_for("AccountView.show"))

    def _export(self, pk: int) -> PrivacyRequest:
        dealer = self._own_dealer()
        item = db.session.get(PrivacyRequest, pk)
        if item is None or item.dealer_id != dealer.id or item.request_type is not RequestType.account_export:
            abort(404)
        return item

    @expose("/status/<int:pk>")
    @has_access
    @permission_name("show")
    def status(self, pk):
        """What the progress bar polls (the pattern of the privacy request page)."""
        return status_response(self._export(pk))

    @expose("/download/<int:pk>")
    @has_access
    @permission_name("show")
    def download(self, pk):
        return export_download(self._export(pk), _actor_id())

    @expose("/terminate", methods=["POST"])
    @has_access
    @permission_name("terminate")
    def terminate(self):
        dealer = self._own_dealer()
        form = TerminateForm()
        if not _terminate(form, dealer):
            return self._render(self._own_dealer(), form, status=422)
        logout_user()  # the user is deactivated: this session ends too
        flash(_("The account is terminated. The download link of its export is e-mailed to the administrators."), "info")
        return redirect(self.appbuilder.get_url_for_login)


class DealerTerminationMixin:
    """Staff end a dealer's account from its page, and see the account's events there."""

    show_template = "account/dealer_show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._show_page(pk)

    def _show_page(self, pk, form: TerminateForm | None = None, status: int = 200):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._show(pk)
        dealer = self.datamodel.get(pk)
        html = self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            related_views=self._related_views,
            dealer=dealer,
            events=termination.account_events(db.session, dealer.id),
            terminate_form=form or StaffTerminateForm(prefix="terminate"),
            can_terminate=self.appbuilder.sm.has_access("can_terminate", self.class_permission_name),
            format_datetime=format_datetime,
            **_consequences(),
        )
        return html, status

    @expose("/terminate/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("terminate")
    def terminate(self, pk):
        dealer = self.datamodel.get(pk)
        if dealer is None:
            abort(404)
        form = StaffTerminateForm(prefix="terminate")
        if not _terminate(form, dealer):
            return self._show_page(pk, form, status=422)
        flash(_("The account of %(dealer)s is terminated; its users are deactivated.", dealer=dealer.business_name), "success")
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

    def pre_update(self, item):
        if item.status is DealerStatus.terminated:
            db.session.rollback()
            raise DomainError(_l("A terminated dealer account cannot be changed."))
        return super().pre_update(item)
