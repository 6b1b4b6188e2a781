"""Forms of the privacy officer's and dealer admin's request pages (filing a request is
``app.privacy.requests.on_behalf``)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.domain.enum_labels import lazy_label, staff_request_type_label
from app.models import (
    Client,
    Dealer,
    DealerStatus,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from config import Config

REQUEST_TYPE_LABELS = {t: staff_request_type_label(t) for t in RequestType}
# Filed from the dealer's Account page, never on behalf of a person.
FILED_FOR_PEOPLE = [t for t in REQUEST_TYPE_LABELS if t is not RequestType.account_export]
STATUS_LABELS = {s: lazy_label(s) for s in RequestStatus}
# Every language with a catalogue in translations/ (config discovers them).
LANGUAGES = [(code, language["name"]) for code, language in Config.LANGUAGES.items()]
WHOLE_PLATFORM = ""


class FileRequestForm(FlaskForm):
    """A request filed by the privacy officer or, for its clients, a dealer admin."""

    request_type = SelectField(
        _l("Type"), choices=[(t.value, REQUEST_TYPE_LABELS[t]) for t in FILED_FOR_PEOPLE], validators=[InputRequired()]
    )
    dealer = SelectField(
        _l("Scope"),
        choices=[],
        validate_choice=True,
        description=_l("Leave on “Whole platform” for a request about every dealer and the platform itself."),
    )
    client = SelectField(
        _l("Client"),
        choices=[],
        validate_choice=True,
        description=_l("Pick the client to fill in the identifiers below from the client record."),
    )
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    details = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)])
    language = SelectField(_l("Language of the notices"), choices=LANGUAGES, default="en")

    def scope_for(self, session, dealer_id: int | None) -> None:
        """Offer the officer every active dealer; a dealer user only its own clients."""
        if dealer_id is None:
            dealers = session.scalars(select(Dealer).where(Dealer.status == DealerStatus.active).order_by(Dealer.business_name))
            self.dealer.choices = [(WHOLE_PLATFORM, str(_l("Whole platform")))] + [(str(d.id), d.business_name) for d in dealers]
            del self.client
        else:
            del self.dealer
            clients = session.scalars(
                select(Client)
                .where(Client.dealer_id == dealer_id, Client.restricted_at.is_(None), Client.is_erasure_placeholder.is_(False))
                .order_by(Client.last_name, Client.first_name, Client.id)
            )
            self.client.choices = [("", "—")] + [(str(c.id), _client_label(c)) for c in clients]


def _client_label(client: Client) -> str:
    contact = client.email or client.phone or ""
    return f"{client.full_name} · {contact}" if contact else client.full_name


class ExtendForm(FlaskForm):
    new_due = DateField(_l("New due date"), validators=[InputRequired(message=_l("Enter the new due date."))])
    reason = TextAreaField(_l("Reason (the person will be told)"), validators=[Optional(), Length(max=2000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the person will be told)"), validators=[Optional(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A button: CSRF is the only field."""


class LookalikeForm(FlaskForm):
    """The officer's decision on one possible other person (a row of one table)."""

    table = StringField(validators=[InputRequired(), Length(max=64)])
    row = IntegerField(validators=[InputRequired()])
    decision = RadioField(
        choices=[("confirm", _l("Same person: erase it too")), ("dismiss", _l("Another person: leave it"))],
        validators=[InputRequired(message=_l("Choose whether it is the same person or another person."))],
    )


def new_due_at(request: PrivacyRequest, day) -> datetime:
    """The chosen day, at the time of day of the current deadline (kept in UTC)."""
    return datetime.combine(day, request.due_at.timetz())
