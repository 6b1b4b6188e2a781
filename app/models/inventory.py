"""Cars, their costs, photos, and the insert-only price and status history."""

from __future__ import annotations

import enum
from datetime import date

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    case,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import relationship, validates

from app.domain import DomainError
from app.domain.enum_labels import enum_label
from app.domain.formatting import format_money
from app.domain.money import from_minor, normalise_currency, to_minor
from app.domain.vin import normalise_vin
from app.models.base import (
    DealerOwnedMixin,
    RestrictableMixin,
    TimestampMixin,
    UTCDateTime,
    utcnow,
)
from app.models.expressions import days_between


def _enum(cls):
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class CarStatus(enum.Enum):
    acquired = "acquired"
    in_preparation = "in_preparation"
    available = "available"
    reserved = "reserved"
    sold = "sold"
    archived = "archived"


class Condition(enum.Enum):
    new = "new"
    used = "used"


class MileageUnit(enum.Enum):
    km = "km"
    mi = "mi"


class Fuel(enum.Enum):
    petrol = "petrol"
    diesel = "diesel"
    hybrid = "hybrid"
    plug_in_hybrid = "plug_in_hybrid"
    electric = "electric"
    lpg = "lpg"
    other = "other"


class Transmission(enum.Enum):
    manual = "manual"
    automatic = "automatic"


class BodyType(enum.Enum):
    hatchback = "hatchback"
    sedan = "sedan"
    estate = "estate"
    suv = "suv"
    coupe = "coupe"
    convertible = "convertible"
    van = "van"
    pickup = "pickup"
    other = "other"


class Car(DealerOwnedMixin, RestrictableMixin, TimestampMixin, Model):
    __tablename__ = "car"
    __table_args__ = (
        UniqueConstraint("dealer_id", "stock_number", name="uq_car_dealer_stock_number"),
        CheckConstraint("mileage >= 0", name="ck_car_mileage_non_negative"),
        CheckConstraint("asking_price_minor IS NULL OR asking_price_minor >= 0", name="ck_car_price_non_negative"),
    )
    # Lists sort the computed columns by SQL (app.datamodel.ForecourtInterface).
    __sort_keys__ = {
        "asking_price_display": ("asking_price_minor",),
        "mileage_display": ("mileage_in_km",),
        "days_in_stock": ("stock_days",),
    }

    id = Column(Integer, primary_key=True)
    stock_number = Column(String(30), nullable=False)
    vin = Column(String(24), nullable=False, index=True)
    legacy_chassis_number = Column(Boolean, nullable=False, default=False)
    make = Column(String(60), nullable=False)
    model = Column(String(60), nullable=False)
    trim = Column(String(80))
    year = Column(Integer, nullable=False)
    body_type = Column(_enum(BodyType))
    fuel = Column(_enum(Fuel))
    transmission = Column(_enum(Transmission))
    exterior_colour = Column(String(40))
    interior_colour = Column(String(40))
    mileage = Column(Integer, nullable=False, default=0)
    mileage_unit = Column(_enum(MileageUnit), nullable=False, default=MileageUnit.km)
    condition = Column(_enum(Condition), nullable=False, default=Condition.used)
    status = Column(_enum(CarStatus), nullable=False, default=CarStatus.acquired)
    published = Column(Boolean, nullable=False, default=False)
    acquired_on = Column(Date, nullable=False, default=date.today)
    listed_on = Column(Date)
    sold_on = Column(Date)
    asking_price_minor = Column(BigInteger)
    currency = Column(String(3), nullable=False, default="EUR")

    costs = relationship("CarCost", back_populates="car", cascade="all, delete-orphan")
    photos = relationship("CarPhoto", back_populates="car", cascade="all, delete-orphan", order_by="CarPhoto.position")
    price_history = relationship("CarPriceChange", back_populates="car", cascade="all, delete-orphan")
    status_history = relationship("CarStatusChange", back_populates="car", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.stock_number} · {self.year} {self.make} {self.model}"

    @property
    def asking_price(self):
        return from_minor(self.asking_price_minor, self.currency or "EUR")

    @asking_price.setter
    def asking_price(self, value) -> None:
        self.asking_price_minor = to_minor(value, self.currency or "EUR")

    def asking_price_display(self) -> str:
        return format_money(self.asking_price_minor, self.currency)

    def mileage_display(self) -> str:
        from flask_babel import format_decimal

        return f"{format_decimal(self.mileage or 0)} {enum_label(self.mileage_unit)}".strip()

    def main_photo(self) -> CarPhoto | None:
        """The photo chosen as main, else the first one."""
        photos = sorted(self.photos, key=lambda photo: (photo.position, photo.id or 0))
        return next((photo for photo in photos if photo.is_primary), photos[0] if photos else None)

    def days_in_stock(self, today: date | None = None) -> int:
        end = self.sold_on or today or date.today()
        return max(0, (end - self.acquired_on).days) if self.acquired_on else 0

    @hybrid_property
    def mileage_in_km(self) -> int:
        """Mileage in kilometres, so that miles and kilometres sort together."""
        miles = self.mileage_unit == MileageUnit.mi
        return (self.mileage or 0) * 1609 // 1000 if miles else (self.mileage or 0)

    @mileage_in_km.inplace.expression
    @classmethod
    def _mileage_in_km_expression(cls):
        return case((cls.mileage_unit == MileageUnit.mi, cls.mileage * 1609 / 1000), else_=cls.mileage)

    @hybrid_property
    def stock_days(self) -> int:
        return self.days_in_stock()

    @stock_days.inplace.expression
    @classmethod
    def _stock_days_expression(cls):
        return days_between(cls.acquired_on, func.coalesce(cls.sold_on, func.current_date()))

    @validates("vin")
    def _vin(self, key, value):
        return normalise_vin(value)

    @validates("currency")
    def _currency(self, key, value):
        return normalise_currency(value)

    @validates("mileage")
    def _mileage(self, key, value):
        if value is not None and int(value) < 0:
            raise DomainError(_l("Mileage cannot be negative."), "mileage")
        return value

    @validates("year")
    def _year(self, key, value):
        if value is not None and not 1885 <= int(value) <= date.today().year + 1:
            raise DomainError(_l("Enter a model year between 1885 and next year."), "year")
        return value

    @validates("asking_price_minor")
    def _price(self, key, value):
        if value is not None and int(value) < 0:
            raise DomainError(_l("An amount cannot be negative."), "asking_price")
        return value


class CostKind(enum.Enum):
    purchase = "purchase"
    reconditioning = "reconditioning"
    transport = "transport"
    fees = "fees"
    other = "other"


class CarCost(DealerOwnedMixin, TimestampMixin, Model):
    """Internal costs of a car (purchase price, reconditioning …): DealerAdmin only."""

    __tablename__ = "car_cost"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="ck_car_cost_non_negative"),)

    id = Column(Integer, primary_key=True)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(_enum(CostKind), nullable=False, default=CostKind.purchase)
    amount_minor = Column(BigInteger, nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    incurred_on = Column(Date, nullable=False, default=date.today)
    note = Column(String(300))

    car = relationship("Car", back_populates="costs")

    def __str__(self) -> str:
        return f"{self.kind.value if self.kind else ''} {self.amount_display()}"

    @property
    def amount(self):
        return from_minor(self.amount_minor, self.currency or "EUR")

    @amount.setter
    def amount(self, value) -> None:
        self.amount_minor = to_minor(value, self.currency or "EUR")

    def amount_display(self) -> str:
        return format_money(self.amount_minor, self.currency)

    @validates("currency")
    def _currency(self, key, value):
        return normalise_currency(value)

    @validates("amount_minor")
    def _amount(self, key, value):
        if value is not None and int(value) < 0:
            raise DomainError(_l("An amount cannot be negative."), "amount")
        return value


class CarPhoto(DealerOwnedMixin, TimestampMixin, Model):
    """A photo of a car: files live in the file store; ``position`` orders them."""

    __tablename__ = "car_photo"

    id = Column(Integer, primary_key=True)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    is_primary = Column(Boolean, nullable=False, default=False)
    file_path = Column(String(300), nullable=False)  # the large variant, relative to DATA_DIR
    thumb_path = Column(String(300))  # the thumbnail, relative to DATA_DIR
    caption = Column(String(200))
    width = Column(Integer)  # of the large variant
    height = Column(Integer)
    byte_size = Column(Integer)  # of the large variant
    content_sha256 = Column(String(64))  # of the stored large variant (ETag)

    car = relationship("Car", back_populates="photos")

    def __str__(self) -> str:
        return self.caption or f"#{self.position}"

    def stored_files(self) -> list[str]:
        """Every file of the photo in the file store, relative to ``DATA_DIR``."""
        return [path for path in (self.file_path, self.thumb_path) if path]


class CarPriceChange(DealerOwnedMixin, Model):
    """Insert-only: one row each time a car's asking price changes."""

    __tablename__ = "car_price_change"

    id = Column(Integer, primary_key=True)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    old_price_minor = Column(BigInteger)
    new_price_minor = Column(BigInteger)
    currency = Column(String(3), nullable=False)
    changed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    changed_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    car = relationship("Car", back_populates="price_history")
    changed_by = relationship("DealerUser")

    def old_price_display(self) -> str:
        return format_money(self.old_price_minor, self.currency)

    def new_price_display(self) -> str:
        return format_money(self.new_price_minor, self.currency)


class CarStatusChange(DealerOwnedMixin, Model):
    """Insert-only: one row each time a car's status changes."""

    __tablename__ = "car_status_change"

    id = Column(Integer, primary_key=True)
    car_id = Column(Integer, ForeignKey("car.id", ondelete="CASCADE"), nullable=False, index=True)
    old_status = Column(_enum(CarStatus))
    new_status = Column(_enum(CarStatus), nullable=False)
    changed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    changed_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    car = relationship("Car", back_populates="status_history")
    changed_by = relationship("DealerUser")
