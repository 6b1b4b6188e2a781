"""Who may grant what: the one rule every path that creates or edits a user applies.

- Admin grants anything and manages everyone.
- Staff manages Staff and dealer users; never an Admin or PrivacyOfficer account.
- DealerAdmin manages DealerAdmin/DealerStaff of its own dealer only.
- PrivacyOfficer and DealerStaff manage nobody.
- Nobody changes their own roles (so nobody raises their own privileges), deletes their own
  account, or sets their own password without the current one (that is "Reset my password").
- A user is either internal staff (no dealer) or works for exactly one dealer.

The rule speaks about plain values (``Account``): it needs neither a request nor a model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.domain import DomainError

ADMIN = "Admin"
STAFF = "Staff"
PRIVACY_OFFICER = "PrivacyOfficer"
DEALER_ADMIN = "DealerAdmin"
DEALER_STAFF = "DealerStaff"
DEALER_ROLES = (DEALER_ADMIN, DEALER_STAFF)
INTERNAL_ROLES = (ADMIN, STAFF, PRIVACY_OFFICER)
ALL_ROLES = INTERNAL_ROLES + DEALER_ROLES

# What each role may hand out, and so whose accounts it may manage.
GRANTABLE: dict[str, frozenset[str]] = {
    ADMIN: frozenset(ALL_ROLES),
    STAFF: frozenset({STAFF, DEALER_ADMIN, DEALER_STAFF}),
    DEALER_ADMIN: frozenset(DEALER_ROLES),
}


class GrantRefused(DomainError):
    """A user change the editor may not make; nothing of it is applied."""


@dataclass(frozen=True)
class Account:
    """What the rule needs to know about a user: id (None before it exists), role names, dealer."""

    id: int | None
    roles: frozenset[str]
    dealer_id: int | None

    @classmethod
    def of(cls, user_id: int | None, roles: Iterable[str], dealer_id: int | None) -> Account:
        return cls(user_id, frozenset(roles), dealer_id)


def grantable_roles(editor: Account) -> frozenset[str]:
    """The roles ``editor`` may give: the union over its roles, never more than it holds."""
    granted: set[str] = set()
    for role in editor.roles:
        granted |= GRANTABLE.get(role, frozenset())
    return frozenset(granted)


def may_manage(editor: Account, target: Account) -> bool:
    """Whether ``editor`` may change, deactivate, delete or reset the password of ``target``."""
    if ADMIN in editor.roles:
        return True
    allowed = grantable_roles(editor)
    if not allowed or not target.roles <= allowed:
        return False
    if ADMIN not in editor.roles and STAFF not in editor.roles:  # a dealer admin: own dealer only
        return editor.dealer_id is not None and target.dealer_id == editor.dealer_id
    return True


def check_manage(editor: Account, target: Account) -> None:
    if not may_manage(editor, target):
        raise GrantRefused(_l("You cannot change this account."))


def check_user(editor: Account, before: Account | None, after: Account) -> None:
    """Refuse creating (``before`` None) or changing a user into ``after``, unless allowed."""
    if before is not None:
        check_manage(editor, before)
        if before.id == editor.id and after.roles != before.roles:
            raise GrantRefused(_l("You cannot change your own roles."), "roles")
    if not after.roles:
        raise GrantRefused(_l("Choose at least one role."), "roles")
    if not after.roles <= grantable_roles(editor):
        raise GrantRefused(_l("You cannot give this role."), "roles")
    dealer_roles = after.roles & set(DEALER_ROLES)
    if dealer_roles and dealer_roles != after.roles:
        raise GrantRefused(_l("A user is either internal staff or works for one dealer, not both."), "roles")
    if dealer_roles and after.dealer_id is None:
        raise GrantRefused(_l("A dealer user needs a dealer."), "dealer")
    if not dealer_roles and after.dealer_id is not None:
        raise GrantRefused(_l("Internal staff do not belong to a dealer."), "dealer")
    if not may_manage(editor, after):
        raise GrantRefused(_l("You cannot manage users of another dealer."), "dealer")


def check_delete(editor: Account, target: Account) -> None:
    if target.id is not None and target.id == editor.id:
        raise GrantRefused(_l("You cannot delete your own account."))
    check_manage(editor, target)


def check_password_reset(editor: Account, target: Account) -> None:
    """Setting another user's password; one's own goes through "Reset my password",
    which asks for the current one."""
    if target.id is not None and target.id == editor.id:
        raise GrantRefused(_l("Change your own password under Profile → Reset my password."))
    check_manage(editor, target)


# The command line runs with the operator's full authority.
SYSTEM = Account(None, frozenset({ADMIN}), None)
