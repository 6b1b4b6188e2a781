"""The change history under the privacy rules: it goes with its record.

Whatever deletes rows through ``delete_rows`` (an erasure, a retention sweep, the end of
an account, the ledger's replay after a restore) deletes their history too, and that of
the rows their foreign keys cascade to (``forget_deleted``); an erasure that anonymises a
row instead deletes the history of the columns it anonymised (``forget_fields``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from app.models.history import NOT_TRACKED, ChangeRecord


def forget_records(session: Session, table: str, ids: Select[Any] | Iterable[int]) -> None:
    """Delete the history of these rows of ``table`` (ids, or a select of them)."""
    if table in NOT_TRACKED:
        return
    where: ColumnElement[bool] = ChangeRecord.row_id.in_(ids if isinstance(ids, Select) else list(ids))
    session.execute(delete(ChangeRecord).where(ChangeRecord.table_name == table, where), execution_options={"synchronize_session": False})


def forget_fields(session: Session, table: str, ids: Iterable[int], fields: Iterable[str]) -> None:
    """Delete the history of some columns of these rows (the ones an erasure anonymised)."""
    ids, fields = list(ids), list(fields)
    if not ids or not fields or table in NOT_TRACKED:
        return
    session.execute(
        delete(ChangeRecord).where(ChangeRecord.table_name == table, ChangeRecord.row_id.in_(ids), ChangeRecord.field.in_(fields)),
        execution_options={"synchronize_session": False},
    )
