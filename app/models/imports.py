"""Imports with preview: an uploaded spreadsheet's rows, checked and shown before anything
is written, then applied all or nothing by a job (``app.workbench``).

A batch keeps the file's cells one row each (``ImportRow``), so that a client import's
rows hold personal data in columns the privacy registry can find and erase (a person's
e-mail and phone), and so that nothing of the file outlives ``IMPORT_RETENTION_DAYS``.
"""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.domain import periods
from app.domain.declarations import BY_CONTACT, DELETE, PrivacyDeclaration
from app.models.base import DealerOwnedMixin, TimestampMixin, UTCDateTime


class ImportKind(enum.Enum):
    car = "car"
    client = "client"


class ImportStatus(enum.Enum):
    preview = "preview"  # uploaded and checked; nothing written
    queued = "queued"  # confirmed; the job will apply it
    applied = "applied"  # every row written in one transaction
    failed = "failed"  # the job found errors (the data changed since the preview): nothing written


class ImportBatch(DealerOwnedMixin, TimestampMixin, Model):
    """One uploaded file of a dealer: its headers, the column mapping, the counts."""

    __tablename__ = "import_batch"
    __history__ = False  # a staging area, deleted after days: the records it writes have history

    id = Column(Integer, primary_key=True)
    kind = Column(Enum(ImportKind, native_enum=False, length=10), nullable=False)
    status = Column(Enum(ImportStatus, native_enum=False, length=10), nullable=False, default=ImportStatus.preview)
    file_format = Column(String(4), nullable=False)  # csv | xlsx; the file's name is not kept
    language = Column(String(5), nullable=False)  # numbers and dates are read in this language
    headers = Column(JSON, nullable=False)  # the file's first row, as written
    mapping = Column(JSON, nullable=False)  # header index (as text) -> field name, or "" to ignore
    created_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    to_create = Column(Integer, nullable=False, default=0)
    to_update = Column(Integer, nullable=False, default=0)
    unchanged = Column(Integer, nullable=False, default=0)
    with_errors = Column(Integer, nullable=False, default=0)
    progress_done = Column(Integer, nullable=False, default=0)
    progress_total = Column(Integer, nullable=False, default=0)
    queued_at = Column(UTCDateTime)
    applied_at = Column(UTCDateTime)
    failure = Column(Text)  # a translated-at-display code word, never personal data

    rows = relationship("ImportRow", back_populates="batch", cascade="all, delete-orphan", order_by="ImportRow.row_number")
    created_by = relationship("DealerUser")

    def __str__(self) -> str:
        return f"#{self.id}"


class ImportRow(DealerOwnedMixin, Model):
    """One row of an uploaded file: its cells as written and what the preview found."""

    __tablename__ = "import_row"
    __history__ = False  # copies of a file's cells: no second copy in the change history

    id = Column(Integer, primary_key=True)
    batch_id = Column(Integer, ForeignKey("import_batch.id", ondelete="CASCADE"), nullable=False, index=True)
    row_number = Column(Integer, nullable=False)  # as a spreadsheet numbers it (the headers are row 1)
    cells = Column(JSON, nullable=False)
    email = Column(String(254), index=True)  # a client row's e-mail, normalised (erasure finds it)
    phone = Column(String(20), index=True)  # a client row's phone, E.164
    action = Column(String(10), nullable=False)  # create | update | unchanged | error
    target_id = Column(Integer)  # the car or client an update matched
    errors = Column(JSON, nullable=False, default=list)  # [[field, message], ...]
    changes = Column(JSON, nullable=False, default=dict)  # field -> [old, new] of an update (no client values)

    batch = relationship("ImportBatch", back_populates="rows")

    __privacy__ = PrivacyDeclaration(
        category="imports",
        title=_l("Imported spreadsheets awaiting confirmation"),
        purpose=_l("Showing the dealer what an import will change before it is applied"),
        legal_basis=_l("The dealer's legitimate interest in keeping its records (GDPR Art. 6(1)(f))"),
        recipients=_l("The dealer's staff; Forecourt as the dealer's processor"),
        retention=_l("Deleted %(days)s days after the upload", days=periods.IMPORT_RETENTION_DAYS),
        source=_l("A list the dealer imported"),
        personal={"cells": DELETE, "email": DELETE, "phone": DELETE, "errors": DELETE, "changes": DELETE},
        find=(BY_CONTACT,),
        email_column="email",
        phone_column="phone",
        export_columns=("row_number", "cells"),
    )
