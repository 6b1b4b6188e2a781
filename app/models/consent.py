"""The consent ledger (GDPR Art. 7(1)): append-only proof of every consent given or
withdrawn and every privacy-notice acknowledgement."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import relationship, validates

from app.domain.contact import normalise_email
from app.domain.declarations import BY_CLIENT, BY_CONTACT, DELETE, PrivacyDeclaration
from app.models.base import DealerOwnedMixin, UTCDateTime, utcnow


class ConsentPurpose(enum.Enum):
    privacy_notice = "privacy_notice"  # the person read the privacy notice (acknowledgement)
    marketing = "marketing"  # the dealer may send offers


class ConsentAction(enum.Enum):
    acknowledged = "acknowledged"
    given = "given"
    withdrawn = "withdrawn"


class ConsentMethod(enum.Enum):
    inquiry_form = "inquiry_form"  # the public inquiry form's checkboxes
    # Marketing ticked on a public form, then confirmed through the link mailed to the
    # address (recorded at the confirmation; its inquiry says when it was ticked).
    double_opt_in = "double_opt_in"
    unsubscribe_link = "unsubscribe_link"  # the link in a marketing e-mail
    public_page = "public_page"  # the public withdrawal page
    staff = "staff"  # a dealer user recorded it (e.g. on the phone)
    objection = "objection"  # an objection to direct marketing (GDPR Art. 21)


class ConsentRecord(DealerOwnedMixin, Model):
    __tablename__ = "consent_record"

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="SET NULL"), index=True)
    inquiry_id = Column(Integer, ForeignKey("inquiry.id", ondelete="SET NULL"), index=True)
    email = Column(String(254), index=True)
    purpose = Column(Enum(ConsentPurpose, native_enum=False, length=20), nullable=False)
    action = Column(Enum(ConsentAction, native_enum=False, length=20), nullable=False)
    policy_version_id = Column(Integer, ForeignKey("policy_version.id", ondelete="RESTRICT"), index=True)
    method = Column(Enum(ConsentMethod, native_enum=False, length=20), nullable=False)
    # Where it happened: the page's path, or the e-mail the link came from.
    source = Column(String(300), nullable=False)
    recorded_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    ip_address = Column(String(45))
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    client = relationship("Client")
    inquiry = relationship("Inquiry")
    policy_version = relationship("PolicyVersion")
    recorded_by = relationship("DealerUser", foreign_keys=[recorded_by_id])

    __privacy__ = PrivacyDeclaration(
        category="consents",
        title=_l("Consents and acknowledgements"),
        purpose=_l("Proving what you agreed to, when and under which privacy notice (GDPR Art. 7(1))"),
        legal_basis=_l("Legal obligation (GDPR Art. 6(1)(c), Art. 7(1))"),
        recipients=_l("The dealer; Forecourt as the dealer's processor"),
        retention=_l("As long as the consent is relied on, then as long as the client record"),
        source=_l("You, through the dealer's forms and e-mails"),
        personal={"email": DELETE, "ip_address": DELETE},
        find=(BY_CONTACT, BY_CLIENT),
        email_column="email",
        client_column="client_id",
        export_columns=("purpose", "action", "policy_version.version", "method", "source", "recorded_at", "ip_address"),
    )

    def __str__(self) -> str:
        return f"{self.purpose.value} {self.action.value} {self.recorded_at:%Y-%m-%d}"

    @validates("email")
    def _email(self, key, value):
        return normalise_email(value)
