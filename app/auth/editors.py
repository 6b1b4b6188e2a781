"""The grant rule's view of users: the account being changed, as in memory and as stored,
and the signed-in editor (``app.domain.grants`` decides; this reads the database)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import select

from app.domain.grants import Account, grantable_roles
from app.extensions import db
from app.models.users import DealerUser
from app.tenancy import current_dealer_id, current_user


def _group_roles(user: Any) -> set[str]:
    """Roles a user holds through FAB's groups (only an Admin manages groups)."""
    return {role.name for group in getattr(user, "groups", None) or [] for role in group.roles}


def account_of(user: Any) -> Account:
    """The rule's view of ``user`` as it stands in memory (a form may have changed it)."""
    with db.session.no_autoflush:  # the relationship, not the column: a form sets only it
        dealer = getattr(user, "dealer", None)
        roles = {r.name for r in getattr(user, "roles", []) or []} | _group_roles(user)
    return Account.of(getattr(user, "id", None), roles, dealer.id if dealer is not None else None)


def stored_account(user: Any) -> Account:
    """``user`` as stored in the database, before the change being checked."""
    with db.session.no_autoflush:
        roles = db.session.scalars(
            select(Role.name).join(assoc_user_role, assoc_user_role.c.role_id == Role.id).where(assoc_user_role.c.user_id == user.id)
        ).all()
        roles = set(roles) | _group_roles(user)
    # The dealer_id column follows the ``dealer`` relationship only at the flush.
    return Account.of(user.id, roles, user.dealer_id)


def editor_account() -> Account:
    """The signed-in editor as stored: a form editing the editor's own account changes the
    same object in memory, and must not change what the editor may do."""
    user = current_user()
    if user is None:
        return Account.of(None, (), None)
    return stored_account(user)


def assignable_role_names() -> list[str]:
    """Roles the current user may hand out: never more than it holds."""
    return sorted(grantable_roles(editor_account()))


def users_query():
    """Users within the editor's tenant (a dealer admin: its own dealer's)."""
    query = db.session.query(DealerUser)
    dealer_id = current_dealer_id()
    return query if dealer_id is None else query.filter(DealerUser.dealer_id == dealer_id)
