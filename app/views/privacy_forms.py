"""Forms of the privacy officer's and dealer admin's request pages, and the one place
that turns what staff typed into a filed request (shared by the web view and the API).

Tenancy is settled here, not in the service: a dealer user files for its own dealer
and may only point at its own clients.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.domain import DomainError
from app.domain.enum_labels import lazy_label, staff_request_type_label
from app.models import (
    Client,
    Dealer,
    DealerStatus,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.privacy.requests import intake
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
            dealers = session.scalars(
                select(Dealer).where(Dealer.status == DealerStatus.active).order_by(Dealer.business_name)
            )
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


def new_due_at(request: PrivacyRequest, day) -> datetime:
    """The chosen day, at the time of day of the current deadline (kept in UTC)."""
    return datetime.combine(day, request.due_at.timetz())


def file_on_behalf(
    session,
    *,
    dealer_id: int | None,
    actor_id: int | None,
    request_type: str,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    chosen_dealer_id: int | None = None,
    client_id: int | None = None,
    details: str | None = None,
    language: str = "en",
) -> PrivacyRequest:
    """File a request for a person, as the current user (``dealer_id``: their dealer or None).

    A dealer user's request is scoped to its dealer, whatever was chosen; a client must be
    one of that dealer's and fills in the identifiers left empty. The caller commits.
    """
    if request_type in (RequestType.account_export, RequestType.account_export.value):
        raise DomainError(_l("An account export is requested on the Account page of the dealership."), "request_type")
    if dealer_id is not None:
        if chosen_dealer_id is not None and chosen_dealer_id != dealer_id:
            raise DomainError(_l("Choose a dealership from the list."), "dealer")
        scope, channel = dealer_id, RequestChannel.dealer_admin
    else:
        scope, channel = chosen_dealer_id, RequestChannel.officer
    client = None
    if client_id is not None:
        client = session.get(Client, client_id)
        if client is None or client.dealer_id != scope or client.is_erasure_placeholder:
            raise DomainError(_l("Choose one of the dealer's clients."), "client")
        email = email or client.email
        phone = phone or client.phone
        name = name or client.full_name
    return intake.file_request(
        session,
        request_type=request_type,
        email=email,
        phone=phone,
        name=name,
        dealer_id=scope,
        client_id=client.id if client is not None else None,
        channel=channel,
        language=language,
        details=details,
        actor_id=actor_id,
    )
