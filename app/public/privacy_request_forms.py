"""Forms of the public pages (Flask-WTF: CSRF on, labels and messages translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.models import RequestType

PLATFORM = "platform"

# What a person may ask for, in plain words (GDPR Art. 15-21).
REQUEST_TYPES = (
    (
        RequestType.access,
        _l("See my data"),
        _l("We send you a copy of the personal data we hold about you, with what we use it for, who receives it and how long we keep it."),
    ),
    (
        RequestType.portability,
        _l("Take my data elsewhere"),
        _l("We send you your data in machine-readable files (JSON and CSV) that you can give to another service."),
    ),
    (
        RequestType.rectification,
        _l("Correct my data"),
        _l("Some of your details are wrong or incomplete. Tell us below what should be changed."),
    ),
    (
        RequestType.erasure,
        _l("Delete my data"),
        _l(
            "We delete your personal data. Records the law makes us keep (for example invoices) are kept locked until the end of that period."
        ),
    ),
    (
        RequestType.restriction,
        _l("Pause the use of my data"),
        _l("We keep your data but stop using it, for example while you dispute its accuracy."),
    ),
    (
        RequestType.objection,
        _l("Stop using my data for marketing"),
        _l("We stop using your data for marketing or other purposes you object to."),
    ),
)


class PrivacyRequestForm(FlaskForm):
    """The public data-subject request form; the rules themselves live in app.privacy."""

    request_type = RadioField(
        _l("What would you like us to do?"),
        choices=[(t.value, label) for t, label, _ in REQUEST_TYPES],
        validators=[InputRequired(message=_l("Choose what you would like us to do."))],
    )
    email = EmailField(
        _l("Your e-mail address"),
        validators=[InputRequired(message=_l("Enter the e-mail address we can reach you at.")), Length(max=254)],
        description=_l("We send a link to this address: your request starts when you confirm it."),
    )
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=200, message=_l("A name has at most 200 characters."))])
    phone = StringField(
        _l("Your phone number"),
        validators=[Optional(), Length(max=40)],
        description=_l("Optional. It helps us find records that have no e-mail address."),
    )
    dealer = SelectField(
        _l("Which dealership is it about?"),
        validators=[InputRequired(message=_l("Choose a dealership from the list."))],
        description=_l("Choose a dealership if you were their customer, or Forecourt itself for your account with us and all dealerships."),
    )
    details = TextAreaField(
        _l("Details"),
        validators=[Optional(), Length(max=5000, message=_l("Please keep the description under 5000 characters."))],
        description=_l("Anything that helps us: for a correction, which details are wrong and what they should be."),
    )

    def __init__(self, dealers: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dealer.choices = [(PLATFORM, _l("Forecourt itself / all dealerships"))] + [
            (str(dealer_id), name) for dealer_id, name in dealers
        ]

    @property
    def dealer_id(self) -> int | None:
        return None if self.dealer.data in (None, "", PLATFORM) else int(self.dealer.data)
