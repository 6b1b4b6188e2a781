"""Restricted rows (GDPR Art. 18: ``restricted_at`` set on clients, inquiries, sales) in
the web layer: hidden from everyone but the privacy officer (a FAB filter for lists,
single rows and relation drop-downs), and never edited, deleted or newly pointed at
through a view or an API. ``app.tenancy`` applies these on every tenant-scoped view and API.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.orm.interfaces import MANYTOONE

from app.domain import DomainError
from app.domain.tenancy import TenantViolation
from app.signed_in import current_user


def can_see_restricted(user: Any | None) -> bool:
    """Only the privacy officer sees restricted rows (an Admin too, when also an officer)."""
    from app.domain.grants import PRIVACY_OFFICER

    return user is not None and any(role.name == PRIVACY_OFFICER for role in getattr(user, "roles", []) or [])


def is_restrictable(model: type) -> bool:
    return hasattr(model, "restricted_at")


class FilterNotRestricted(BaseFilter):
    """``restricted_at IS NULL`` for everyone but the privacy officer."""

    name = "Not restricted"
    arg_name = None

    def apply(self, query, value):
        if can_see_restricted(current_user()):
            return query
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_(None))


def restriction_filters() -> list[list[Any]]:
    return [["restricted_at", FilterNotRestricted, None]]


def refuse_restricted(item: Any) -> None:
    """A restricted row is read-only for everyone, through every view and API."""
    if getattr(item, "restricted_at", None) is not None:
        raise DomainError(_l("This record is restricted at the request of the person it is about: it cannot be changed or deleted."))


def refuse_restricted_references(item: Any, is_new: bool) -> None:
    """A row may not be newly pointed at a restricted row (it is not processed any more)."""
    state = inspect(item)
    for rel in state.mapper.relationships:
        if rel.direction is not MANYTOONE or rel.viewonly or not is_restrictable(rel.mapper.class_):
            continue
        target = getattr(item, rel.key)
        if target is None or getattr(target, "restricted_at", None) is None:
            continue
        changed = (
            is_new
            or state.attrs[rel.key].history.added
            or any(state.attrs[col.key].history.added for col in rel.local_columns if col.key in state.attrs)
        )
        if not changed:
            continue
        if can_see_restricted(current_user()):
            raise DomainError(_l("The selected record is restricted and cannot be used."), rel.key)
        raise TenantViolation(_l("The selected record does not exist."), rel.key)
