"""The tenant rule at the model level: a dealer's row only points at that dealer's rows.

Views and APIs call ``check_tenant_references`` for a clear error; the same check runs
on every flush so no code path (job, command, shell) can mix tenants.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from app.domain import DomainError


class TenantViolation(DomainError):
    """A reference to a row of another dealer; worded as 'not found' on purpose."""


def _tenant_relations(item: Any):
    for rel in inspect(type(item)).relationships:
        if rel.direction is not MANYTOONE or rel.viewonly:
            continue
        target_cls = rel.mapper.class_
        if getattr(target_cls, "__tablename__", "") == "dealer" or not hasattr(target_cls, "dealer_id"):
            continue
        yield rel, target_cls


def _tenant_key(obj: Any) -> tuple:
    """The dealer an object belongs to, also before a flush has assigned ids."""
    if getattr(obj, "dealer_id", None) is not None:
        return ("id", obj.dealer_id)
    dealer = getattr(obj, "dealer", None)
    if dealer is None:
        return ("none", None)
    return ("id", dealer.id) if dealer.id is not None else ("new", id(dealer))


def check_tenant_references(item: Any, session: Session | None = None) -> None:
    tenant = _tenant_key(item)
    for rel, target_cls in _tenant_relations(item):
        target = getattr(item, rel.key)
        if target is None:
            fk_values = [getattr(item, col.key, None) for col in rel.local_columns]
            if all(v is None for v in fk_values):
                continue
            session = session or inspect(item).session
            target = session.get(target_cls, fk_values[0]) if session is not None else None
            if target is None:
                raise TenantViolation(_l("The selected record does not exist."), rel.key)
        if _tenant_key(target) != tenant:
            raise TenantViolation(_l("The selected record does not exist."), rel.key)
