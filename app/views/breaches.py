"""The breach register (GDPR Art. 33) for the privacy officer: the list with each breach's
72-hour countdown, the add/edit forms grouped by the Art. 33(3) items, and the breach page
with the dealers told and the form that tells more of them.

Thin: the rules live in ``app.privacy.transparency.breaches``. Times are typed and shown in the user's
time zone (Babel's), stored in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from flask import abort, flash, redirect, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.fieldwidgets import Select2ManyWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import BooleanField, DateTimeField, SelectField, SelectMultipleField

from app.datamodel import ForecourtInterface
from app.domain import DomainError
from app.domain.enum_labels import choices, label_of_value
from app.domain.formatting import format_datetime
from app.extensions import db
from app.finding import FindingMixin
from app.models import Breach, BreachStatus, Dealer, DealerStatus
from app.models.base import utcnow
from app.privacy.transparency import breach_subjects, breaches
from app.saving import refused_forms_rolled_back, saving
from app.tenancy import current_user
from app.views.breach_subjects import TellSubjectsForm, flash_result, page_context, show_refusal_at_field

COUNTDOWN_CSS = {
    breaches.OPEN: "label-info",
    breaches.DUE_SOON: "label-warning",
    breaches.OVERDUE: "label-danger",
    breaches.NOTIFIED: "label-success",
    breaches.NOT_NOTIFIABLE: "label-default",
    breaches.CLOSED: "label-default",
}


def countdown_text(state: str, remaining: timedelta | None) -> str:
    """``48 h left``, ``overdue by 5 h``, ``notified``…"""
    if state == breaches.NOTIFIED:
        return _("notified")
    if state == breaches.NOT_NOTIFIABLE:
        return _("no notice needed")
    if state == breaches.CLOSED:
        return _("closed")
    if state == breaches.OVERDUE:
        return _("overdue by %(hours)d h", hours=int(-remaining // timedelta(hours=1)))
    if remaining < timedelta(hours=1):
        return _("%(minutes)d min left", minutes=int(remaining // timedelta(minutes=1)))
    return _("%(hours)d h left", hours=int(remaining // timedelta(hours=1)))


def countdown_badge(item: Breach, now: datetime | None = None) -> Markup:
    state, remaining = breaches.countdown(item, now)
    return Markup('<span class="label {} breach-countdown breach-{}" title="{}">{}</span>').format(
        COUNTDOWN_CSS[state],
        state,
        _("Notice due %(deadline)s", deadline=format_datetime(breaches.notice_deadline(item))),
        countdown_text(state, remaining),
    )


def dealers_told(item: Breach) -> str:
    told = sum(1 for notice in item.dealer_notices if notice.notified_at is not None)
    return _("%(told)d of %(affected)d", told=told, affected=len(item.dealer_notices)) if item.dealer_notices else "—"


VIRTUAL_COLUMNS: dict[str, Callable[[Breach], object]] = {
    "countdown": countdown_badge,
    "deadline": lambda item: format_datetime(breaches.notice_deadline(item)),
    "dealers_told": dealers_told,
}


class BreachInterface(ForecourtInterface):
    def _get_attr_value(self, item, col):
        virtual = VIRTUAL_COLUMNS.get(col)
        if virtual is not None:
            return virtual(item)
        return super()._get_attr_value(item, col)


# -- time zones ------------------------------------------------------------------------


def to_utc(value: datetime | None) -> datetime | None:
    """A time typed in the user's time zone, in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_timezone())
    return value.astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    """A stored time as the user types it (naive, in their time zone)."""
    return None if value is None else value.astimezone(get_timezone()).replace(tzinfo=None)


class InLocalTime:
    """A field description that names the user's time zone when it is rendered."""

    def __init__(self, text) -> None:
        self.text = text

    def __str__(self) -> str:
        return _("%(text)s Time zone: %(zone)s.", text=str(self.text), zone=str(get_timezone()))

    def __html__(self) -> Markup:
        return escape(str(self))


def with_breach_rules(form_class: type) -> type:
    """The view's form plus the register's rules, each error shown at its field."""

    class BreachForm(form_class):
        def validate(self, extra_validators=None):
            if not super().validate(extra_validators=extra_validators):
                return False
            times = {name for name, f in self._fields.items() if isinstance(f, DateTimeField)}
            values = {name: to_utc(f.data) if name in times else f.data for name, f in self._fields.items()}
            found = breaches.problems(values, utcnow())
            for error in found:
                target = self._fields.get(error.field or "")
                if target is not None:
                    target.errors = [*target.errors, error.message]
            if found:
                return False
            for name in times:
                self[name].data = values[name]
            return True

    return BreachForm


def _status_choice(value: Any) -> BreachStatus | None:
    """The status a form or FAB's show widget holds (member, value or name)."""
    if value in (None, "") or isinstance(value, BreachStatus):
        return value or None
    return BreachStatus(getattr(value, "value", value))


# -- the register ----------------------------------------------------------------------

NATURE = ["nature", "subject_categories", "approx_subjects", "record_categories", "approx_records"]
NOTICE = ["status", "authority_notified_at", "authority_reference", "delay_reason", "not_notifiable_reason"]
FIELDSETS = [
    (_l("The breach"), {"fields": ["title", "became_aware_at", "occurred_from", "occurred_until"]}),
    (_l("(a) Nature, people and records concerned (Art. 33(3)(a))"), {"fields": NATURE}),
    (_l("(b) Contact point for more information (Art. 33(3)(b))"), {"fields": ["contact_point"]}),
    (_l("(c) Likely consequences (Art. 33(3)(c))"), {"fields": ["likely_consequences"]}),
    (_l("(d) Measures taken or proposed (Art. 33(3)(d))"), {"fields": ["measures_taken"]}),
    (_l("Notice to the supervisory authority (Art. 33(1))"), {"fields": NOTICE}),
    (_l("The people affected (Art. 34)"), {"fields": ["subjects_informed_at"]}),
]
FORM_COLUMNS = [name for _, fieldset in FIELDSETS for name in fieldset["fields"]]


class TellDealersForm(FlaskForm):
    dealers = SelectMultipleField(_l("Dealers affected"), coerce=int, choices=[], widget=Select2ManyWidget())
    every_dealer = BooleanField(_l("Every active dealer"))

    def offer(self, session) -> None:
        dealers = session.scalars(select(Dealer).where(Dealer.status == DealerStatus.active).order_by(Dealer.business_name))
        self.dealers.choices = [(d.id, d.business_name) for d in dealers]

    def chosen(self) -> list[int]:
        if self.every_dealer.data:
            return [value for value, _label in self.dealers.choices]
        return list(self.dealers.data or [])


class BreachView(FindingMixin, ModelView):
    """The register: no delete, it is the record the authority may ask for (Art. 33(5))."""

    datamodel = BreachInterface(Breach)
    route_base = "/breachview"
    list_title = _l("Breach register")
    show_title = _l("Breach")
    add_title = _l("Record a breach")
    edit_title = _l("Edit breach")
    base_permissions: ClassVar[list[str]] = ["can_list", "can_show", "can_add", "can_edit", "can_tell_dealers", "can_tell_subjects"]
    list_columns: ClassVar[list[str]] = ["reference", "title", "status", "became_aware_at", "countdown", "dealers_told"]
    search_columns: ClassVar[list[str]] = ["reference", "title", "status", "became_aware_at"]
    order_columns: ClassVar[list[str]] = ["reference", "title", "status", "became_aware_at"]
    base_order = ("became_aware_at", "desc")
    add_columns = edit_columns = FORM_COLUMNS
    add_fieldsets = edit_fieldsets = FIELDSETS
    show_fieldsets: ClassVar[list] = [
        (_l("Register"), {"fields": ["reference", "status", "countdown", "deadline", "recorded_by", "created_at"]}),
        *FIELDSETS,
    ]
    add_form_extra_fields: ClassVar[dict] = {
        "status": SelectField(
            _l("Status"),
            choices=choices(BreachStatus),
            coerce=_status_choice,
            default=BreachStatus.open,
            widget=Select2Widget(),
        ),
    }
    edit_form_extra_fields = add_form_extra_fields
    label_columns: ClassVar[dict] = {
        "reference": _l("Reference"),
        "title": _l("Title"),
        "status": _l("Status"),
        "countdown": _l("72-hour notice"),
        "deadline": _l("Notice due"),
        "dealers_told": _l("Dealers told"),
        "recorded_by": _l("Recorded by"),
        "created_at": _l("Recorded"),
        "became_aware_at": _l("Became aware"),
        "occurred_from": _l("Started"),
        "occurred_until": _l("Ended"),
        "nature": _l("What happened"),
        "subject_categories": _l("Categories of people"),
        "approx_subjects": _l("Approximate number of people"),
        "record_categories": _l("Categories of records"),
        "approx_records": _l("Approximate number of records"),
        "contact_point": _l("Contact point"),
        "likely_consequences": _l("Likely consequences"),
        "measures_taken": _l("Measures taken or proposed"),
        "authority_notified_at": _l("Authority told"),
        "authority_reference": _l("Authority reference"),
        "delay_reason": _l("Reasons for the delay"),
        "not_notifiable_reason": _l("Why no notice is needed"),
        "subjects_informed_at": _l("People affected told"),
    }
    description_columns: ClassVar[dict] = {
        "title": _l("A short name for the register, e.g. “Laptop with exports stolen”."),
        "became_aware_at": InLocalTime(_l("When we became reasonably certain that personal data were affected: the 72 hours start here.")),
        "occurred_from": InLocalTime(_l("When the breach started, if known.")),
        "occurred_until": InLocalTime(_l("When it ended; leave empty while it goes on.")),
        "nature": _l("What happened and how: loss of confidentiality, integrity or availability."),
        "subject_categories": _l("e.g. dealer users, dealers’ clients, visitors of inquiry forms."),
        "approx_subjects": _l("An estimate is enough; update it when you know more."),
        "record_categories": _l("e.g. contact details, inquiry messages, sales records."),
        "approx_records": _l("An estimate is enough; update it when you know more."),
        "contact_point": _l("The data protection officer or another contact; empty: the privacy officer’s address."),
        "likely_consequences": _l("What could happen to the people affected."),
        "measures_taken": _l("What was done or is proposed to deal with the breach and limit its effects."),
        "authority_notified_at": InLocalTime(_l("When the notice went to the supervisory authority.")),
        "authority_reference": _l("The authority’s case number, if any."),
        "delay_reason": _l("Required when the authority was told more than 72 hours after we became aware."),
        "not_notifiable_reason": _l("Required when the breach is unlikely to result in a risk to people."),
        "subjects_informed_at": InLocalTime(_l("When the people affected were told (high risk, Art. 34).")),
    }
    formatters_columns: ClassVar[dict] = {
        **{name: format_datetime for name in (*breaches.TIME_FIELDS, "created_at")},
        "status": lambda value: label_of_value(BreachStatus, value),
    }
    show_template = "privacy/breach_show.html"

    def _init_forms(self):
        super()._init_forms()
        self.add_form = with_breach_rules(self.add_form)
        self.edit_form = with_breach_rules(self.edit_form)

    def prefill_form(self, form, pk):
        for form_field in form._fields.values():
            if isinstance(form_field, DateTimeField):
                form_field.data = to_local(form_field.data)

    def pre_add(self, item):
        self._prepare(item)

    def pre_update(self, item):
        self._prepare(item)

    def _prepare(self, item: Breach) -> None:
        with refused_forms_rolled_back(), db.session.no_autoflush:
            breaches.prepare(db.session, item, actor_id=_actor_id())

    # -------------------------------------------------------------- the breach page

    def _item(self, pk) -> Breach:
        try:
            item = self.datamodel.get(int(pk), self._base_filters)
        except (TypeError, ValueError):
            item = None
        if item is None:
            abort(404)
        return item

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._item(pk)
        return self._render_show(item, TellDealersForm(), subjects_form=TellSubjectsForm().prefill(item))

    def _render_show(self, item: Breach, form: TellDealersForm, status: int = 200, subjects_form: TellSubjectsForm | None = None):
        form.offer(db.session)
        subjects_form = subjects_form or TellSubjectsForm(formdata=None).prefill(item)
        subjects_form.offer(db.session)
        notices = sorted(item.dealer_notices, key=lambda n: (n.dealer.business_name if n.dealer else "", n.id))
        html = self.render_template(
            self.show_template,
            pk=item.id,
            title=self.show_title,
            widgets=self._show(item.id),
            related_views=self._related_views,
            item=item,
            notices=notices,
            tell_form=form,
            subjects_form=subjects_form,
            **page_context(db.session),
        )
        return html, status

    @expose("/tell/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("tell_dealers")
    def tell(self, pk):
        item = self._item(pk)
        form = TellDealersForm()
        form.offer(db.session)
        if not form.validate_on_submit():
            flash(_("Please check the form."), "danger")
            return self._render_show(item, form, 422)
        with saving(form) as saved:
            result = breaches.notify_dealers(db.session, item.id, form.chosen(), actor_id=_actor_id())
        if not saved.ok:
            return self._render_show(self._item(pk), form, 422)
        _flash_result(result)
        return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

    @expose("/tell-subjects/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("tell_subjects")
    def tell_subjects(self, pk):
        """Art. 34: tell the people affected, once per form."""
        item = self._item(pk)
        form = TellSubjectsForm()
        form.offer(db.session)
        if form.validate_on_submit():
            try:
                result = breach_subjects.notify_subjects(db.session, item.id, actor_id=_actor_id(), **form.values())
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                show_refusal_at_field(form, error)
            else:
                flash_result(result)
                return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        flash(_("Please check the form."), "danger")
        return self._render_show(self._item(pk), TellDealersForm(formdata=None), 422, subjects_form=form)


def _flash_result(result: breaches.DealerNoticeResult) -> None:
    if result.told:
        flash(
            _("%(dealers)d dealer(s) told: %(messages)d e-mail(s) queued.", dealers=len(result.told), messages=result.messages), "success"
        )
    if result.already_told:
        flash(_("%(dealers)d dealer(s) had already been told and were not told again.", dealers=len(result.already_told)), "info")
    if result.unreachable:
        flash(
            _(
                "%(dealers)d dealer(s) have no active administrator and no e-mail address: tell them another way.",
                dealers=len(result.unreachable),
            ),
            "warning",
        )


def _actor_id() -> int | None:
    return getattr(current_user(), "id", None)
