"""The personal-data breach register (GDPR Art. 33(5))."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from sqlalchemy import Column, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.base import TimestampMixin, UTCDateTime


class BreachStatus(enum.Enum):
    open = "open"  # being assessed
    notified = "notified"  # the authority was told
    not_notifiable = "not_notifiable"  # unlikely to result in a risk (documented why)
    closed = "closed"


class Breach(TimestampMixin, Model):
    """One breach: when it became known starts the 72-hour clock of Art. 33(1); the
    Art. 33(3) fields are what the notice to the authority must contain."""

    __tablename__ = "breach"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    title = Column(String(200), nullable=False)
    status = Column(Enum(BreachStatus, native_enum=False, length=20), nullable=False, default=BreachStatus.open)
    became_aware_at = Column(UTCDateTime, nullable=False)
    occurred_from = Column(UTCDateTime)
    occurred_until = Column(UTCDateTime)
    # Art. 33(3)(a): the nature, categories and approximate numbers.
    nature = Column(Text, nullable=False)
    subject_categories = Column(String(300))
    approx_subjects = Column(Integer)
    record_categories = Column(String(300))
    approx_records = Column(Integer)
    # Art. 33(3)(b): who to contact for more information.
    contact_point = Column(String(300))
    # Art. 33(3)(c) and (d).
    likely_consequences = Column(Text)
    measures_taken = Column(Text)
    # Art. 33(1): the notice, or why there is none, and the reasons for any delay.
    authority_notified_at = Column(UTCDateTime)
    authority_reference = Column(String(100))
    not_notifiable_reason = Column(Text)
    delay_reason = Column(Text)
    # Art. 34: the people affected, when they were told.
    subjects_informed_at = Column(UTCDateTime)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    recorded_by = relationship("DealerUser", foreign_keys=[recorded_by_id])
    dealer_notices = relationship("BreachDealerNotice", back_populates="breach", cascade="all, delete-orphan")
    reminders = relationship("BreachReminder", back_populates="breach", cascade="all, delete-orphan", order_by="BreachReminder.id")
    subject_notices = relationship(
        "BreachSubjectNotice", back_populates="breach", cascade="all, delete-orphan", order_by="BreachSubjectNotice.id"
    )

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class BreachDealerNotice(Model):
    """A dealer (the controller of its clients' data) affected by a breach, and when it
    was told (Art. 33(2): the processor tells the controller without undue delay)."""

    __tablename__ = "breach_dealer_notice"
    __table_args__ = (UniqueConstraint("breach_id", "dealer_id"),)

    id = Column(Integer, primary_key=True)
    breach_id = Column(Integer, ForeignKey("breach.id", ondelete="CASCADE"), nullable=False, index=True)
    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="CASCADE"), nullable=False, index=True)
    notified_at = Column(UTCDateTime)
    notified_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    breach = relationship("Breach", back_populates="dealer_notices")
    dealer = relationship("Dealer")
    notified_by = relationship("DealerUser", foreign_keys=[notified_by_id], viewonly=True)


class BreachReminder(Model):
    """A reminder the privacy officers got as the 72 hours ran down (Art. 33(1)): one per
    breach, threshold and deadline, so no reminder goes out twice (a corrected time of
    becoming aware is a new deadline and starts over)."""

    __tablename__ = "breach_reminder"
    __table_args__ = (UniqueConstraint("breach_id", "threshold", "deadline"),)

    id = Column(Integer, primary_key=True)
    breach_id = Column(Integer, ForeignKey("breach.id", ondelete="CASCADE"), nullable=False, index=True)
    threshold = Column(String(20), nullable=False)  # 48h, 24h, 6h, overdue
    deadline = Column(UTCDateTime, nullable=False)
    sent_at = Column(UTCDateTime, nullable=False)
    recipients = Column(Integer, nullable=False, default=0)

    breach = relationship("Breach", back_populates="reminders")


class BreachSubjectNotice(Model):
    """One notice to the people affected (Art. 34): who was chosen, how many were told,
    when, by whom, and the text they got. ``token`` is the form's, so a double submit
    sends nothing twice."""

    __tablename__ = "breach_subject_notice"

    id = Column(Integer, primary_key=True)
    breach_id = Column(Integer, ForeignKey("breach.id", ondelete="CASCADE"), nullable=False, index=True)
    token = Column(String(64), nullable=False, unique=True)
    audience = Column(String(20), nullable=False)  # clients, users, addresses
    dealer_ids = Column(String(500))  # comma-separated, for clients and users
    recipients = Column(Integer, nullable=False, default=0)
    nature = Column(Text, nullable=False)
    likely_consequences = Column(Text, nullable=False)
    measures_taken = Column(Text, nullable=False)
    contact_point = Column(String(300), nullable=False)
    sent_at = Column(UTCDateTime, nullable=False)
    sent_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    breach = relationship("Breach", back_populates="subject_notices")
    sent_by = relationship("DealerUser", foreign_keys=[sent_by_id], viewonly=True)
