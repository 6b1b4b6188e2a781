"""The breach page's form to tell the people affected (GDPR Art. 34); the work is in
``app.privacy.transparency.breach_subjects``."""

from __future__ import annotations

import uuid

from flask import current_app, flash
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField

from app.i18n.languages import language_choices
from app.models import Breach, Dealer, DealerStatus
from app.privacy.transparency import breach_subjects, breaches

AUDIENCE_CHOICES = [
    (breach_subjects.CLIENTS, _l("The clients of the chosen dealers")),
    (breach_subjects.USERS, _l("The users of the chosen dealers")),
    (breach_subjects.ADDRESSES, _l("These e-mail addresses")),
]


class TellSubjectsForm(FlaskForm):
    token = HiddenField()
    audience = RadioField(_l("Whom to tell"), choices=AUDIENCE_CHOICES, validate_choice=False)
    subject_dealers = SelectMultipleField(_l("Dealers"), coerce=int, choices=[], widget=Select2ManyWidget())
    addresses = TextAreaField(_l("E-mail addresses"), description=_l("One per line, or separated by commas."))
    language = SelectField(
        _l("Language for these addresses"),
        choices=language_choices,
        validate_choice=False,
        description=_l("Clients and users get the notice in their own language."),
    )
    nature = TextAreaField(_l("What happened"), description=_l("In plain language, for people who are not experts."))
    likely_consequences = TextAreaField(_l("What this could mean for them"))
    measures_taken = TextAreaField(_l("What was done and what they can do"))
    contact_point = StringField(_l("Whom to contact for more information"))

    def offer(self, session) -> None:
        dealers = session.scalars(select(Dealer).where(Dealer.status == DealerStatus.active).order_by(Dealer.business_name))
        self.subject_dealers.choices = [(d.id, d.business_name) for d in dealers]

    def prefill(self, breach: Breach) -> TellSubjectsForm:
        """A fresh form: a new token, the breach's own texts to start from."""
        self.token.data = uuid.uuid4().hex
        self.audience.data = breach_subjects.CLIENTS
        self.subject_dealers.data = sorted(notice.dealer_id for notice in breach.dealer_notices)  # the dealers recorded as affected
        self.language.data = current_app.config["BABEL_DEFAULT_LOCALE"]
        self.nature.data = breach.nature
        self.likely_consequences.data = breach.likely_consequences
        self.measures_taken.data = breach.measures_taken
        self.contact_point.data = breaches.contact_point(breach)
        return self

    def values(self) -> dict:
        """The service's keyword arguments."""
        return {
            "token": self.token.data or "",
            "audience": self.audience.data or "",
            "dealer_ids": list(self.subject_dealers.data or []),
            "addresses": self.addresses.data or "",
            "language": self.language.data,
            "nature": self.nature.data,
            "likely_consequences": self.likely_consequences.data,
            "measures_taken": self.measures_taken.data,
            "contact_point": self.contact_point.data,
        }


FIELD_OF = {"dealers": "subject_dealers"}  # the service's field names that differ


def show_refusal_at_field(form: TellSubjectsForm, error) -> None:
    """Put the service's refusal at the form's field (or flash it when it names none)."""
    target = form._fields.get(FIELD_OF.get(error.field, error.field or ""))
    if target is None:
        flash(str(error.message), "danger")
    else:
        target.errors = [*target.errors, error.message]


def flash_result(result: breach_subjects.SubjectNoticeResult) -> None:
    if result.already_sent:
        flash(_("This notice had already been sent; nothing was sent again."), "info")
    else:
        flash(_("%(people)d people affected told: one e-mail each, in their language.", people=result.people), "success")


THRESHOLD_LABELS = {
    "48h": _l("48 hours left"),
    "24h": _l("24 hours left"),
    "6h": _l("6 hours left"),
    "overdue": _l("overdue"),
}


def page_context(session) -> dict:
    """What the breach page's Art. 34 and reminder panels show besides the breach."""

    def dealer_names(ids: str) -> str:
        wanted = [int(i) for i in ids.split(",") if i.strip().isdigit()]
        names = dict(session.execute(select(Dealer.id, Dealer.business_name).where(Dealer.id.in_(wanted))).all())
        return ", ".join(str(names.get(i, i)) for i in wanted)

    return {
        "audience_labels": {value: str(label) for value, label in AUDIENCE_CHOICES},
        "threshold_labels": {value: str(label) for value, label in THRESHOLD_LABELS.items()},
        "dealer_names": dealer_names,
    }
