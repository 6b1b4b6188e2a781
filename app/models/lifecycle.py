"""What the retention machinery did: one append-only row per sweep run and per step of
an account's end (termination, export, deletion, erasure of kept records)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.models.base import UTCDateTime, utcnow


class RetentionEvent(Model):
    """``kind`` is ``sweep`` (``sweep`` names which) or an account step such as
    ``account_terminated``. ``summary`` holds rows per table and action; ``certificate``
    the proof of a deletion (counts, verification scan, time). ``dealer_id`` and
    ``user_id`` are plain integers: the event outlives the rows it is about."""

    __tablename__ = "retention_event"

    id = Column(Integer, primary_key=True)
    kind = Column(String(40), nullable=False, index=True)
    sweep = Column(String(60), index=True)
    dealer_id = Column(Integer, index=True)
    user_id = Column(Integer, index=True)
    as_of = Column(UTCDateTime, nullable=False)
    occurred_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    dry_run = Column(Boolean, nullable=False, default=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    summary = Column(JSON, nullable=False, default=dict)
    certificate = Column(JSON)

    actor = relationship("DealerUser", foreign_keys=[actor_id], viewonly=True)

    def __str__(self) -> str:
        return f"{self.kind}{':' + self.sweep if self.sweep else ''} {self.as_of:%Y-%m-%d}"
