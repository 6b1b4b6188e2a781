"""The change history of dealer-owned records: written at flush time, read for the
History tab of each record's show page and ``GET /api/v1/<resource>/<id>/history``.

After every flush (``after_flush``: row ids are known, the attributes' history is not
yet reset) one bulk INSERT records, for every tracked record (``app.models.history``):
an insert (one row, no values: the record holds them), each changed column of an update
with its old and new value as JSON text (a secret's values are never written), and a
deletion (one row, no values; the record's earlier history goes with it: it would keep
the values of a deleted contact; a new record's id may be a deleted one's on SQLite, so
an insert clears it too). No SELECT per row. Who: the signed-in user (``g.user``
or the API's token), else the job or worker that flushed, as ``system``.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, DateTime, Enum, delete, event, insert, inspect, select
from sqlalchemy.orm import Session

from app.domain.enum_labels import label_of_value
from app.domain.formatting import format_date, format_datetime, format_money
from app.extensions import db
from app.models.base import DealerOwnedMixin, utcnow
from app.models.history import DELETE_ACTION, INSERT, SYSTEM, UPDATE, USER, ChangeRecord, is_tracked, tracked_columns, tracked_models
from app.models.users import DealerUser

# How many changes a History tab and the REST answer show, newest first.
HISTORY_LIMIT = 200
CHUNK = 1000  # ids per DELETE of a deleted (or reused) record's earlier history


# -- writing ---------------------------------------------------------------------------


def _tracked(obj: Any) -> bool:
    return isinstance(obj, DealerOwnedMixin) and is_tracked(type(obj))


def _as_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, (datetime, date)):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return json.dumps(value, ensure_ascii=False)


def _actor() -> tuple[int | None, str]:
    if has_app_context():
        from app.signed_in import current_user

        user = current_user()
        if user is not None and getattr(user, "id", None) is not None:
            return user.id, USER
    return None, SYSTEM


def _updates(obj: Any) -> list[tuple[str, str | None, str | None]]:
    state = inspect(obj)
    changes = []
    for key, secret in tracked_columns(type(obj)):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new or (old in (None, "") and new in (None, "")):  # a form's empty text is no change
            continue
        changes.append((key, None, None) if secret else (key, _as_json(old), _as_json(new)))
    return changes


def record_changes(session: Session, flush_context: Any) -> None:
    """One bulk INSERT of this flush's changes to tracked records (and, for deleted
    records, one DELETE of their earlier history per table)."""
    now, (user_id, actor) = utcnow(), _actor()
    rows: list[dict[str, Any]] = []
    gone: dict[str, list[int]] = {}

    def add(obj: Any, action: str, field: str | None = None, old: str | None = None, new: str | None = None) -> None:
        rows.append(
            {
                "dealer_id": obj.dealer_id,
                "table_name": obj.__tablename__,
                "row_id": obj.id,
                "action": action,
                "field": field,
                "old_value": old,
                "new_value": new,
                "changed_by_id": user_id,
                "actor": actor,
                "changed_at": now,
            }
        )

    for obj in session.new:
        if _tracked(obj) and obj.id is not None:
            # SQLite may give a new row the id of a deleted one: its deletion row goes
            gone.setdefault(obj.__tablename__, []).append(obj.id)
            add(obj, INSERT)
    for obj in session.dirty:
        if _tracked(obj) and obj not in session.deleted and session.is_modified(obj):
            for field, old, new in _updates(obj):
                add(obj, UPDATE, field, old, new)
    for obj in session.deleted:
        if _tracked(obj) and obj.id is not None:
            gone.setdefault(obj.__tablename__, []).append(obj.id)
            add(obj, DELETE_ACTION)
    history = ChangeRecord.__table__
    for table, ids in gone.items():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            session.execute(delete(history).where(history.c.table_name == table, history.c.row_id.in_(chunk)))
    if rows:
        session.execute(insert(ChangeRecord.__table__), rows)


def _keep_old_value(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
    return value


def register_change_history() -> None:
    """Install the writer once per process (after the flush rules of ``app.model_events``).

    A tracked column set on a record whose values have expired (after a commit) loads its
    old value first (``active_history``): the history needs the value it replaces."""
    if event.contains(db.session, "after_flush", record_changes):
        return
    for model in tracked_models():
        for key, _secret in tracked_columns(model):
            attribute = getattr(model, key)
            if not event.contains(attribute, "set", _keep_old_value):
                event.listen(attribute, "set", _keep_old_value, active_history=True, retval=True)
    event.listen(db.session, "after_flush", record_changes)


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One change as people read it (labels and values localised) and as the API sends it."""

    changed_at: datetime
    action: str
    field: str | None
    label: str
    old: str
    new: str
    old_value: Any
    new_value: Any
    who: str
    user_id: int | None
    actor: str

    @property
    def when(self) -> str:
        return format_datetime(self.changed_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "changed_at": self.changed_at.isoformat(),
            "action": self.action,
            "field": self.field,
            "label": self.label,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "old_display": self.old,
            "new_display": self.new,
            "changed_by": self.user_id,
            "changed_by_name": self.who,
            "actor": self.actor,
        }


def field_key(field: str, shown: list[str] | set[str]) -> str | None:
    """The shown column a stored column is read as (``asking_price_minor`` → ``asking_price``
    or ``asking_price_display``, ``client_id`` → ``client``); None: not shown to this user."""
    base = field.removesuffix("_minor").removesuffix("_id")
    for candidate in (field, base, f"{base}_display"):
        if candidate in shown:
            return candidate
    return None


def history_of(item: Any, shown: list[str], labels: dict[str, Any], limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """The record's changes, newest first: the columns in ``shown`` (what this view shows
    this user) and the insert/delete rows; labels from ``labels`` (the view's)."""
    query = (
        select(ChangeRecord)
        .where(ChangeRecord.table_name == item.__tablename__, ChangeRecord.row_id == item.id, ChangeRecord.dealer_id == item.dealer_id)
        .order_by(ChangeRecord.changed_at.desc(), ChangeRecord.id.desc())
        .limit(limit)
    )
    records = list(db.session.scalars(query))
    users = _users({r.changed_by_id for r in records if r.changed_by_id is not None})
    shown_set = set(shown)
    entries = []
    for record in records:
        key = field_key(record.field, shown_set) if record.field else ""
        if key is None:
            continue
        entries.append(_entry(item, record, key, labels, users))
    return entries


def _users(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(DealerUser.id, DealerUser.first_name, DealerUser.last_name).where(DealerUser.id.in_(ids)))
    return {pk: f"{first or ''} {last or ''}".strip() for pk, first, last in rows}


def _entry(item: Any, record: ChangeRecord, key: str, labels: dict[str, Any], users: dict[int, str]) -> HistoryEntry:
    secret = record.field is not None and record.old_value is None and record.new_value is None and _is_secret(item, record.field)
    old_value, new_value = _loaded(record.old_value), _loaded(record.new_value)
    if record.field is None:
        label = {INSERT: _("Created"), DELETE_ACTION: _("Deleted")}.get(record.action, record.action)
        old = new = ""
    else:
        label = str(labels.get(key) or key.replace("_", " ").capitalize())
        old, new = (
            (_("(changed)"), _("(changed)")) if secret else (display(item, record.field, old_value), display(item, record.field, new_value))
        )
    if record.actor == SYSTEM:
        who = _("System")
    else:
        who = users.get(record.changed_by_id) or _("Former user")  # type: ignore[arg-type]  # untyped Column model
    return HistoryEntry(
        record.changed_at,  # type: ignore[arg-type]  # untyped Column model
        record.action,  # type: ignore[arg-type]  # untyped Column model
        record.field,  # type: ignore[arg-type]  # untyped Column model
        label,
        old,
        new,
        old_value,
        new_value,
        who,
        record.changed_by_id,  # type: ignore[arg-type]  # untyped Column model
        record.actor,  # type: ignore[arg-type]  # untyped Column model
    )


def _is_secret(item: Any, field: str) -> bool:
    return dict(tracked_columns(type(item))).get(field, False)


def _loaded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def display(item: Any, field: str, value: Any) -> str:
    """A stored value as people read it in the active language: enum labels, money with
    the record's currency, dates, yes/no; "—" for nothing."""
    if value is None or value == "":
        return "—"
    column = type(item).__table__.c.get(field)
    kind = getattr(column.type, "impl", column.type) if column is not None else None
    if isinstance(column.type if column is not None else None, Enum) and column.type.enum_class is not None:
        return label_of_value(column.type.enum_class, value) or str(value)
    if isinstance(kind, Enum) and kind.enum_class is not None:
        return label_of_value(kind.enum_class, value) or str(value)
    if isinstance(kind, Boolean):
        return _("Yes") if value else _("No")
    if field.endswith("_minor") and isinstance(value, int):
        return format_money(value, getattr(item, "currency", None) or "EUR")
    if isinstance(kind, DateTime) and isinstance(value, str):
        return format_datetime(datetime.fromisoformat(value))
    if isinstance(kind, Date) and isinstance(value, str):
        return format_date(date.fromisoformat(value))
    if field.endswith("_id") and isinstance(value, int):
        return f"#{value}"
    return str(value)
