"""Forms of a dealer's public pages: the inquiry with its consents, and withdrawing
marketing consent (Flask-WTF: CSRF on, labels and messages translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp


class InquiryForm(FlaskForm):
    """Neither checkbox is ever ticked for the visitor: both start unticked. The hidden
    one-time token makes a second submit of the same form add nothing."""

    form_token = HiddenField(validators=[Optional(), Length(max=64), Regexp(r"^[A-Za-z0-9_-]*$")])

    name = StringField(
        _l("Your name"),
        validators=[
            InputRequired(message=_l("Please tell us your name.")),
            Length(max=200, message=_l("A name has at most 200 characters.")),
        ],
    )
    email = EmailField(_l("Your e-mail address"), validators=[Optional(), Length(max=254)])
    phone = StringField(
        _l("Your phone number"),
        validators=[Optional(), Length(max=40)],
        description=_l("Give an e-mail address, a phone number or both."),
    )
    message = TextAreaField(
        _l("Your message"),
        validators=[
            InputRequired(message=_l("Please write your message.")),
            Length(max=5000, message=_l("Please keep the message under 5000 characters.")),
        ],
    )
    privacy_notice = BooleanField(
        _l("I have read the privacy notice."),
        default=False,
        validators=[DataRequired(message=_l("Please confirm that you have read the privacy notice."))],
    )
    marketing = BooleanField(
        _l("The dealership may send me offers by e-mail. I can withdraw this at any time with one click."),
        default=False,
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.phone.data or "").strip():
            self.email.errors = [*self.email.errors, _l("Give an e-mail address or a phone number, so that the dealer can answer you.")]
            valid = False
        return valid


class MarketingWithdrawalForm(FlaskForm):
    email = EmailField(
        _l("Your e-mail address"),
        validators=[InputRequired(message=_l("Enter the e-mail address the offers come to.")), Length(max=254)],
    )
