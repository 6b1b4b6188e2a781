"""Clients a dealer's staff enter: the dealer is the controller of this data."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship, validates

from app.domain import periods
from app.domain.contact import normalise_country, normalise_email, normalise_phone
from app.domain.declarations import BY_CONTACT, DELETE, PrivacyDeclaration
from app.domain.text import single_line
from app.models.base import DealerOwnedMixin, RestrictableMixin, TimestampMixin, UTCDateTime


class ClientSource(enum.Enum):
    walk_in = "walk_in"
    phone = "phone"
    website = "website"
    marketplace = "marketplace"
    referral = "referral"
    other = "other"
    imported = "imported"  # from a list the dealer imported (app.workbench)


class Client(DealerOwnedMixin, RestrictableMixin, TimestampMixin, Model):
    __tablename__ = "client"
    # Lists sort the computed name by its parts (app.datamodel.ForecourtInterface).
    __sort_keys__ = {"full_name": ("last_name", "first_name")}

    id = Column(Integer, primary_key=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    email = Column(String(254), index=True)
    phone = Column(String(20), index=True)
    address_line1 = Column(String(200))
    address_line2 = Column(String(200))
    city = Column(String(100))
    postal_code = Column(String(20))
    country = Column(String(2))
    source = Column(Enum(ClientSource, native_enum=False, length=20), nullable=False, default=ClientSource.walk_in)
    marketing_consent = Column(Boolean, nullable=False, default=False)
    marketing_consent_at = Column(UTCDateTime)
    notes = Column(Text)
    assigned_user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    possible_duplicate = Column(Boolean, nullable=False, default=False)
    marketing_objected_at = Column(UTCDateTime)
    # The stand-in buyer that kept sales point to once their real buyer is erased.
    is_erasure_placeholder = Column(Boolean, nullable=False, default=False)

    assigned_user = relationship("DealerUser", foreign_keys=[assigned_user_id])
    inquiries = relationship("Inquiry", back_populates="client")
    purchases = relationship("Sale", back_populates="buyer")

    __privacy__ = PrivacyDeclaration(
        category="clients",
        title=_l("Client records"),
        purpose=_l("Serving you as a customer of the dealer: quotes, test drives, sales, after-sales"),
        legal_basis=_l("Contract and pre-contract steps (GDPR Art. 6(1)(b)); marketing only with consent (Art. 6(1)(a))"),
        recipients=_l("The dealer's staff; Forecourt as the dealer's processor"),
        retention=_l(
            "Until you ask for erasure or the dealer's account ends; sales records %(years)s years", years=periods.BUSINESS_RECORD_YEARS
        ),
        source=_l("You, or the dealer's staff when you contacted them, or a list the dealer imported"),
        personal={
            "first_name": DELETE,
            "last_name": DELETE,
            "email": DELETE,
            "phone": DELETE,
            "address_line1": DELETE,
            "address_line2": DELETE,
            "city": DELETE,
            "postal_code": DELETE,
            "country": DELETE,
            "notes": DELETE,
            "marketing_consent": DELETE,
        },
        find=(BY_CONTACT,),
        email_column="email",
        phone_column="phone",
        export_columns=(
            "first_name",
            "last_name",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "postal_code",
            "country",
            "source",
            "marketing_consent",
            "marketing_consent_at",
            "marketing_objected_at",
            "notes",
            "created_at",
        ),
    )

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @validates("first_name", "last_name", "address_line1", "address_line2", "city", "postal_code")
    def _single_line(self, key, value):
        return single_line(value, key)  # names reach e-mail subjects: no line breaks

    @validates("email")
    def _email(self, key, value):
        return normalise_email(value)

    @validates("phone")
    def _phone(self, key, value):
        return normalise_phone(value, self.country or (self.dealer.country if self.dealer else None))

    @validates("country")
    def _country(self, key, value):
        return normalise_country(value)
