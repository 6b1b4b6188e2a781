"""The dealer (tenant) and its profile."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Enum, Integer, String, false
from sqlalchemy.orm import relationship, validates

from app.domain import DomainError, periods
from app.domain.contact import normalise_country, normalise_email, normalise_phone
from app.domain.declarations import BY_CONTACT, KEEP, PrivacyDeclaration
from app.domain.money import normalise_currency
from app.domain.text import single_line, web_address
from app.models.base import DealerOwnedMixin, TimestampMixin, UTCDateTime


class DealerStatus(enum.Enum):
    active = "active"
    terminated = "terminated"


class Dealer(TimestampMixin, Model):
    __tablename__ = "dealer"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    business_name = Column(String(200), nullable=False)
    legal_name = Column(String(200))
    address_line1 = Column(String(200))
    address_line2 = Column(String(200))
    city = Column(String(100))
    region = Column(String(100))
    postal_code = Column(String(20))
    country = Column(String(2), nullable=False, default="DE")
    phone = Column(String(20))
    email = Column(String(254))
    website = Column(String(300))
    # Privacy by default (GDPR Art. 25): visitors' IP addresses are stored only when the
    # dealer switches this on (inquiries, consent records, usage log).
    record_visitor_ip = Column(Boolean, nullable=False, default=False, server_default=false())
    inquiry_retention_months = Column(Integer, nullable=False, default=24, server_default="24")
    timezone = Column(String(64), nullable=False, default="Europe/Berlin", server_default="Europe/Berlin")
    default_currency = Column(String(3), nullable=False, default="EUR")
    status = Column(Enum(DealerStatus, native_enum=False, length=20), nullable=False, default=DealerStatus.active)
    terminated_at = Column(UTCDateTime)
    termination_reason = Column(String(500))
    # Day 30 after termination: account and profile data deleted (then account_deleted_at).
    account_deletion_due_at = Column(UTCDateTime, index=True)
    account_deleted_at = Column(UTCDateTime)
    # 3 years after termination: the kept business records are erased too.
    records_erasure_due_at = Column(UTCDateTime, index=True)
    records_erased_at = Column(UTCDateTime)

    social_links = relationship("DealerSocialLink", back_populates="dealer", cascade="all, delete-orphan")

    __privacy__ = PrivacyDeclaration(
        category="dealer_profile",
        title=_l("Dealer profile"),
        purpose=_l("Showing the dealership to its customers and running its account"),
        legal_basis=_l("Contract (GDPR Art. 6(1)(b))"),
        recipients=_l("Visitors of the dealer's public pages; Forecourt's staff"),
        retention=_l("Until %(days)s days after the account is terminated", days=periods.ACCOUNT_DELETION_AFTER_DAYS),
        source=_l("The dealership"),
        personal={
            "legal_name": KEEP,
            "address_line1": KEEP,
            "address_line2": KEEP,
            "city": KEEP,
            "postal_code": KEEP,
            "phone": KEEP,
            "email": KEEP,
        },
        find=(BY_CONTACT,),
        email_column="email",
        phone_column="phone",
        scope_column=None,
        platform_only=True,
        keep_reason=_l(
            "A business profile: deleted %(days)s days after the account is terminated", days=periods.ACCOUNT_DELETION_AFTER_DAYS
        ),
        export_columns=("business_name", "legal_name", "address_line1", "city", "postal_code", "country", "phone", "email", "website"),
    )

    def __str__(self) -> str:
        return self.business_name or self.slug

    @validates("slug")
    def _slug(self, key, value):
        import re

        value = (value or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", value):
            raise DomainError(_l("A slug uses lower-case letters, digits and dashes."), "slug")
        return value

    @validates("business_name", "legal_name", "address_line1", "address_line2", "city", "region", "postal_code")
    def _single_line(self, key, value):
        return single_line(value, key)  # names reach e-mail subjects: no line breaks

    @validates("website")
    def _website(self, key, value):
        return web_address(value, key)

    @validates("phone")
    def _phone(self, key, value):
        return normalise_phone(value, self.country)

    @validates("email")
    def _email(self, key, value):
        return normalise_email(value)

    @validates("country")
    def _country(self, key, value):
        return normalise_country(value)

    @validates("inquiry_retention_months")
    def _retention(self, key, value):
        if value is None or isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
            raise DomainError(_l("Keep inquiries for 1 to 120 months."), "inquiry_retention_months")
        return value

    @validates("timezone")
    def _timezone(self, key, value):
        from zoneinfo import available_timezones

        value = (value or "").strip()
        if value not in available_timezones():
            raise DomainError(_l("Choose a time zone such as Europe/Berlin or Europe/Kyiv."), "timezone")
        return value

    @validates("default_currency")
    def _currency(self, key, value):
        return normalise_currency(value)


class DealerSocialLink(DealerOwnedMixin, Model):
    __tablename__ = "dealer_social_link"

    id = Column(Integer, primary_key=True)
    platform = Column(String(40), nullable=False)
    url = Column(String(300), nullable=False)
    dealer = relationship("Dealer", back_populates="social_links")

    def __str__(self) -> str:
        return f"{self.platform}: {self.url}"

    @validates("platform")
    def _platform(self, key, value):
        return single_line(value, key)

    @validates("url")
    def _url(self, key, value):
        value = web_address(value, key)
        if value is None:
            raise DomainError(_l("A link starts with https://"), "url")
        return value
