"""Inquiries from visitors and callers, and the sales pipeline they move through."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship, validates

from app.domain.contact import normalise_email, normalise_phone
from app.domain.declarations import BY_CLIENT, BY_CONTACT, DELETE, PrivacyDeclaration
from app.domain.text import single_line
from app.models.base import DealerOwnedMixin, RestrictableMixin, TimestampMixin, UTCDateTime, utcnow


class InquiryStatus(enum.Enum):
    new = "new"
    contacted = "contacted"
    appointment = "appointment"
    negotiating = "negotiating"
    won = "won"
    lost = "lost"


class InquirySource(enum.Enum):
    website = "website"
    phone = "phone"
    email = "email"
    walk_in = "walk_in"
    marketplace = "marketplace"
    other = "other"


class Inquiry(DealerOwnedMixin, RestrictableMixin, TimestampMixin, Model):
    __tablename__ = "inquiry"
    __table_args__ = (UniqueConstraint("dealer_id", "form_token", name="uq_inquiry_dealer_form_token"),)

    id = Column(Integer, primary_key=True)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="SET NULL"), index=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="SET NULL"), index=True)
    name = Column(String(200), nullable=False)
    email = Column(String(254), index=True)
    phone = Column(String(20))
    message = Column(Text)
    source = Column(Enum(InquirySource, native_enum=False, length=20), nullable=False, default=InquirySource.website)
    status = Column(Enum(InquiryStatus, native_enum=False, length=20), nullable=False, default=InquiryStatus.new)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    first_response_at = Column(UTCDateTime)
    assigned_user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    ip_address = Column(String(45))
    user_agent = Column(String(300))
    # When one of the dealer's users first opened it (None: the menu badge counts it).
    seen_at = Column(UTCDateTime)
    # The public form's one-time token: a second submit of the same form adds nothing.
    form_token = Column(String(64))

    car = relationship("Car")
    client = relationship("Client", back_populates="inquiries")
    assigned_user = relationship("DealerUser", foreign_keys=[assigned_user_id])

    __privacy__ = PrivacyDeclaration(
        category="inquiries",
        title=_l("Messages and inquiries"),
        purpose=_l("Answering your questions about cars and arranging viewings"),
        legal_basis=_l("Pre-contract steps at your request (GDPR Art. 6(1)(b))"),
        recipients=_l("The dealer's staff; Forecourt as the dealer's processor"),
        retention=_l("The dealer's inquiry retention setting (24 months by default)"),
        source=_l("You, through the dealer's inquiry form, by phone or e-mail"),
        personal={
            "name": DELETE,
            "email": DELETE,
            "phone": DELETE,
            "message": DELETE,
            "ip_address": DELETE,
            "user_agent": DELETE,
        },
        find=(BY_CONTACT, BY_CLIENT),
        email_column="email",
        phone_column="phone",
        client_column="client_id",
        export_columns=(
            "name",
            "email",
            "phone",
            "message",
            "source",
            "status",
            "received_at",
            "first_response_at",
            "ip_address",
            "user_agent",
        ),
    )

    def __str__(self) -> str:
        return f"#{self.id} {self.name}"

    @validates("name")
    def _name(self, key, value):
        return single_line(value, key)

    @validates("email")
    def _email(self, key, value):
        return normalise_email(value)

    @validates("phone")
    def _phone(self, key, value):
        return normalise_phone(value, self.dealer.country if self.dealer else None)
