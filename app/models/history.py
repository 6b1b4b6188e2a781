"""The change history of dealer-owned records: one row per changed field, written at
flush time by ``app.change_history`` (a bulk insert per flush).

Which models and columns are recorded is decided here (``tracked_columns``): every column
of every dealer-owned model but bookkeeping ones (ids, the tenant, timestamps, the
restriction stamp), columns a privacy declaration keeps on purpose (a kept sale's buyer
name: restricted with its row, not copied elsewhere), and never the value of a secret
(only that it changed). Insert-only logs (price and status history, the consent ledger)
are history already and are not recorded again.

A history row lives as long as its record: deleted with it (``app.privacy.history``),
by an erasure of the person it concerns, and with the dealer's account.
"""

from __future__ import annotations

import re
from functools import cache

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, and_, false, or_, select
from sqlalchemy.sql import ColumnElement

from app.domain.declarations import BY_RECORD, DELETE, KEEP, PrivacyDeclaration
from app.models.base import DealerOwnedMixin, UTCDateTime, utcnow

INSERT, UPDATE, DELETE_ACTION = "insert", "update", "delete"
ACTIONS = (INSERT, UPDATE, DELETE_ACTION)
USER, SYSTEM = "user", "system"  # who changed it: a signed-in user, or a job / worker
# Columns that say nothing about what the record is: never recorded.
BOOKKEEPING = frozenset({"id", "dealer_id", "created_at", "updated_at", "restricted_at", "is_erasure_placeholder", "seen_at", "form_token"})
# Columns whose value is a secret: recorded as changed, never with a value.
SECRET = re.compile(r"password|secret|token|api_key|hash", re.IGNORECASE)
# Dealer-owned tables that are logs themselves, and the history itself.
NOT_TRACKED = frozenset({"change_history", "car_price_change", "car_status_change", "consent_record", "disclosure"})


class ChangeRecord(DealerOwnedMixin, Model):
    """Insert-only: one field of one dealer-owned record changed (or the record was
    inserted or deleted), by whom and when. Values are JSON text; a secret's are empty."""

    __tablename__ = "change_history"
    # Ids never reused (SQLite reuses a deleted last id): the deletion ledger names rows by id.
    __table_args__ = (Index("ix_change_history_record", "table_name", "row_id"), {"sqlite_autoincrement": True})

    id = Column(Integer, primary_key=True)
    table_name = Column(String(60), nullable=False)
    row_id = Column(Integer, nullable=False)
    action = Column(String(10), nullable=False)
    field = Column(String(60))  # None: the whole record (a deletion)
    old_value = Column(Text)
    new_value = Column(Text)
    changed_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    actor = Column(String(20), nullable=False, default=USER)
    changed_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    __privacy__ = PrivacyDeclaration(
        category="change_history",
        title=_l("Change history of records"),
        purpose=_l("Showing the dealer's staff who changed which record, and when"),
        legal_basis=_l("The dealer's legitimate interest in accurate, accountable records (GDPR Art. 6(1)(f))"),
        recipients=_l("The dealer's staff; Forecourt as the dealer's processor"),
        retention=_l("As long as the record it describes: deleted with the record, by an erasure, and with the dealer's account"),
        source=_l("Changes the dealer's staff and Forecourt's jobs make to the records"),
        personal={"old_value": DELETE, "new_value": DELETE},
        find=(BY_RECORD,),
        record_columns=("table_name", "row_id"),
        export_columns=("table_name", "row_id", "action", "field", "old_value", "new_value", "changed_at"),
        not_personal={"table_name": "the name of a table"},
    )

    def __str__(self) -> str:
        return f"{self.table_name} #{self.row_id} {self.field or self.action}"


def tracked_models() -> list[type[Model]]:
    """Every dealer-owned model whose changes are recorded."""
    by_table: dict[str, type[Model]] = {}
    for mapper in Model.registry.mappers:
        model = mapper.class_
        if hasattr(model, "__tablename__") and _is_tracked(model):
            known = by_table.get(model.__tablename__)
            if known is None or issubclass(model, known):
                by_table[model.__tablename__] = model  # the most derived model of a table
    return [by_table[name] for name in sorted(by_table)]


def _is_tracked(model: type[Model]) -> bool:
    table = model.__table__
    return issubclass(model, DealerOwnedMixin) and table.name not in NOT_TRACKED and getattr(model, "__history__", True)


def is_tracked(model: type[Model]) -> bool:
    return _is_tracked(model)


@cache
def tracked_columns(model: type[Model]) -> tuple[tuple[str, bool], ...]:
    """``(attribute, is_secret)`` for every recorded column of ``model``."""
    declaration = model.__dict__.get("__privacy__")
    kept = {name for name, how in (declaration.personal.items() if declaration else ()) if how == KEEP}
    found = []
    for column in model.__table__.columns:
        if column.name in BOOKKEEPING or column.name in kept:
            continue
        found.append((column.key, bool(SECRET.search(column.name))))
    return tuple(found)


def of_restricted_records() -> ColumnElement[bool]:
    """History rows whose record is restricted (GDPR Art. 18): hidden like the record."""
    clauses = []
    for model in tracked_models():
        if "restricted_at" in model.__table__.c:
            restricted = select(model.id).where(model.restricted_at.is_not(None))
            clauses.append(and_(ChangeRecord.table_name == model.__tablename__, ChangeRecord.row_id.in_(restricted)))
    return or_(*clauses) if clauses else false()
