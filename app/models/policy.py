"""The privacy policy's versions and the public list of sub-processors."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.domain.transfers import is_transfer
from app.models.base import TimestampMixin, UTCDateTime


class PolicyVersion(TimestampMixin, Model):
    """One version of the privacy policy. A draft has no ``published_at``; the current
    version is the latest published one whose ``effective_at`` has come. A material
    change takes effect at least 14 days after it is published and is announced to every
    active user (``notified_at``)."""

    __tablename__ = "policy_version"

    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, unique=True)
    title = Column(String(200), nullable=False)
    # What changed, in a few sentences: the announcement and the banner show it.
    summary = Column(Text)
    # The policy text: Markdown-free plain text, blank lines between paragraphs.
    body = Column(Text, nullable=False)
    material = Column(Boolean, nullable=False, default=True)
    published_at = Column(UTCDateTime)
    effective_at = Column(UTCDateTime)
    notified_at = Column(UTCDateTime)
    published_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    published_by = relationship("DealerUser", foreign_keys=[published_by_id])

    def __str__(self) -> str:
        return f"v{self.version} {self.title}"


class SubProcessorCategory(enum.Enum):
    """What a sub-processor does with the data: the recipients' categories of Art. 15 and 30."""

    hosting = "hosting"
    mail = "mail"
    backup = "backup"
    other = "other"


class TransferSafeguard(enum.Enum):
    """What makes processing outside the EEA lawful (GDPR Art. 45–47)."""

    adequacy = "adequacy"
    scc = "scc"
    bcr = "bcr"


class SubProcessor(TimestampMixin, Model):
    """A company that processes personal data for Forecourt (listed publicly). ``country``
    (ISO 3166) outside the EEA makes it an international transfer, which then names its
    ``transfer_safeguard``; ``dpa_signed_on`` is when its data processing agreement
    (GDPR Art. 28(3)) was signed, None while there is none on file."""

    __tablename__ = "sub_processor"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    purpose = Column(String(300), nullable=False)
    location = Column(String(200), nullable=False)
    since = Column(Date, nullable=False)
    website = Column(String(300))
    removed_on = Column(Date)
    notified_at = Column(UTCDateTime)
    category = Column(Enum(SubProcessorCategory, native_enum=False, length=20), nullable=False, default=SubProcessorCategory.other)
    country = Column(String(2))
    dpa_signed_on = Column(Date)
    transfer_safeguard = Column(Enum(TransferSafeguard, native_enum=False, length=20))

    @property
    def is_transfer(self) -> bool:
        """Processing outside the EEA: an international transfer (GDPR Chapter V)."""
        return is_transfer(self.country)

    def __str__(self) -> str:
        return self.name
