"""Column types and mixins shared by the domain models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declared_attr, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, on every database.

    SQLite returns naive datetimes even for ``DateTime(timezone=True)``; this is the one
    place where they are made aware again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class DealerOwnedMixin:
    """A row that belongs to one dealer (the tenant)."""

    @declared_attr
    def dealer_id(cls):
        return Column(Integer, ForeignKey("dealer.id", ondelete="CASCADE"), nullable=False, index=True)

    @declared_attr
    def dealer(cls):
        return relationship("Dealer")


def apply_scalar_defaults(obj) -> None:
    """Fill unset columns of a new object with their scalar defaults before flush-time rules.

    SQLAlchemy applies column defaults only inside the INSERT, after ``before_flush``:
    rules that read ``status`` or ``currency`` of a new row need them now.
    """
    from sqlalchemy import inspect

    for attr in inspect(type(obj)).column_attrs:
        column = attr.columns[0]
        default = column.default
        if default is None or not default.is_scalar or getattr(obj, attr.key) is not None:
            continue
        setattr(obj, attr.key, default.arg)


class RestrictableMixin:
    """A row that a restriction of processing (GDPR Art. 18) can freeze: hidden from
    everyone but the privacy officer, and read-only."""

    restricted_at = Column(UTCDateTime, index=True)

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None
