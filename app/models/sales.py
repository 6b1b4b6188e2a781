"""Sales: a deal number per dealer, at most one live (non-voided) sale per car."""

from __future__ import annotations

import enum
from datetime import date

from dateutil.relativedelta import relativedelta
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import relationship, validates

from app.domain import DomainError, periods
from app.domain.declarations import BY_CLIENT, KEEP, PLACEHOLDER, PrivacyDeclaration
from app.domain.formatting import format_money
from app.domain.money import from_minor, normalise_currency, to_minor
from app.models.base import DealerOwnedMixin, RestrictableMixin, TimestampMixin


class SaleStatus(enum.Enum):
    draft = "draft"
    sold = "sold"
    voided = "voided"


class Sale(DealerOwnedMixin, RestrictableMixin, TimestampMixin, Model):
    __tablename__ = "sale"
    __table_args__ = (
        UniqueConstraint("dealer_id", "deal_number", name="uq_sale_dealer_deal_number"),
        CheckConstraint("price_minor >= 0", name="ck_sale_price_non_negative"),
        Index(
            "uq_sale_one_live_per_car",
            "car_id",
            unique=True,
            sqlite_where=text("status != 'voided'"),
            postgresql_where=text("status != 'voided'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    deal_number = Column(String(30), nullable=False)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="RESTRICT"), nullable=False, index=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="RESTRICT"), nullable=False, index=True)
    salesperson_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    price_minor = Column(BigInteger, nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    sale_date = Column(Date, nullable=False, default=date.today)
    status = Column(Enum(SaleStatus, native_enum=False, length=20), nullable=False, default=SaleStatus.draft)
    # The buyer's name and postal address, copied here when the buyer is erased and the
    # sale is kept for accounting (restricted: the privacy officer's kept-sales page only);
    # empty otherwise. They go with the sale when its years end.
    buyer_name = Column(String(201))
    buyer_address = Column(String(600))

    car = relationship("Car")
    buyer = relationship("Client", back_populates="purchases", foreign_keys=[client_id])
    salesperson = relationship("DealerUser", foreign_keys=[salesperson_id])

    __privacy__ = PrivacyDeclaration(
        category="sales",
        title=_l("Purchases"),
        purpose=_l("Selling you a car, invoicing, warranty and accounting"),
        legal_basis=_l("Contract (GDPR Art. 6(1)(b)); accounting and tax law (Art. 6(1)(c))"),
        recipients=_l("The dealer; tax authorities and finance partners where the law or your contract requires"),
        retention=_l("%(years)s years after the sale, then erased", years=periods.BUSINESS_RECORD_YEARS),
        source=_l("The dealer"),
        personal={"client_id": PLACEHOLDER, "buyer_name": KEEP, "buyer_address": KEEP},
        find=(BY_CLIENT,),
        client_column="client_id",
        business_record_years=periods.BUSINESS_RECORD_YEARS,
        record_date_column="sale_date",
        keep_reason=_l("Business record kept for accounting (3 years) with the buyer’s name and address, restricted"),
        export_columns=("deal_number", "sale_date", "car.make", "car.model", "car.year", "car.vin", "price_minor", "currency", "status"),
    )

    def __str__(self) -> str:
        return self.deal_number

    @property
    def price(self):
        return from_minor(self.price_minor, self.currency or "EUR")

    @price.setter
    def price(self, value) -> None:
        self.price_minor = to_minor(value, self.currency or "EUR")

    def price_display(self) -> str:
        return format_money(self.price_minor, self.currency)

    def kept_until(self) -> date | None:
        """The day a sale kept for accounting is erased (its business-record years end)."""
        return self.sale_date + relativedelta(years=periods.BUSINESS_RECORD_YEARS) if self.sale_date else None

    @validates("currency")
    def _currency(self, key, value):
        return normalise_currency(value)

    @validates("price_minor")
    def _price(self, key, value):
        if value is not None and int(value) < 0:
            raise DomainError(_l("An amount cannot be negative."), "price")
        return value
