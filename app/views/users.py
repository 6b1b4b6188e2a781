"""User management: internal staff see everyone, a dealer admin only its dealer's users."""

from __future__ import annotations

from flask import abort
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired

from app.domain import DomainError
from app.i18n import language_name
from app.security import ADMIN, DEALER_ROLES, INTERNAL_ROLES
from app.tenancy import (
    TenantActionsMixin,
    current_dealer_id,
    current_user,
    tenant_filters,
)
from app.views.profile import language_field


def assignable_role_names() -> list[str]:
    """Roles the current user may hand out: never more than it holds."""
    user = current_user()
    names = {r.name for r in getattr(user, "roles", [])}
    if ADMIN in names:
        return list(INTERNAL_ROLES + DEALER_ROLES)
    if current_dealer_id() is None:
        return [r for r in INTERNAL_ROLES + DEALER_ROLES if r != ADMIN]
    return list(DEALER_ROLES)


_LANGUAGE = language_field()


def with_language(fieldset: tuple) -> tuple:
    """FAB's "Personal Info" fieldset plus the preferred language."""
    title, spec = fieldset
    if "email" not in spec.get("fields", []):
        return fieldset
    return title, {**spec, "fields": [*spec["fields"], "preferred_language"]}


class ForecourtUserDBModelView(TenantActionsMixin, UserDBModelView):
    base_filters = tenant_filters("dealer_id")
    list_columns = ["first_name", "last_name", "username", "email", "dealer", "active", "roles"]
    search_columns = ["first_name", "last_name", "username", "email", "active", "roles", "dealer"]
    add_columns = UserDBModelView.add_columns[:-2] + ["dealer", "preferred_language", "password", "conf_password"]
    add_columns = [c for c in add_columns if c != "groups"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles", "dealer", "preferred_language"]
    add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, "preferred_language": _LANGUAGE}
    edit_form_extra_fields = {"preferred_language": _LANGUAGE}
    add_form_query_rel_fields = {"roles": [["name", FilterInFunction, assignable_role_names]], "dealer": tenant_filters("id")}
    edit_form_query_rel_fields = add_form_query_rel_fields
    label_columns = {**UserDBModelView.label_columns, "dealer": _l("Dealer"), "preferred_language": _l("Language")}
    formatters_columns = {"preferred_language": language_name}
    # The user's page and their own "Profile" show their language with the personal info.
    show_fieldsets = [with_language(fieldset) for fieldset in UserDBModelView.show_fieldsets]
    user_show_fieldsets = [with_language(fieldset) for fieldset in UserDBModelView.user_show_fieldsets]
    # Groups are left out (a group could carry any role), so roles alone are required.
    validators_columns = {"roles": [DataRequired()]}

    def _check(self, item) -> None:
        dealer_id = current_dealer_id()
        if dealer_id is not None:
            item.dealer_id = dealer_id
            if item.dealer is not None and item.dealer.id != dealer_id:
                raise DomainError(_l("A record cannot move to another dealer."), "dealer")
        allowed = set(assignable_role_names())
        if any(role.name not in allowed for role in item.roles):
            raise DomainError(_l("You cannot give this role."), "roles")
        has_dealer_role = any(role.name in DEALER_ROLES for role in item.roles)
        if has_dealer_role and item.dealer_id is None and item.dealer is None:
            raise DomainError(_l("A dealer user needs a dealer."), "dealer")

    def pre_add(self, item):
        self._check(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._check(item)
        super().pre_update(item)

    def pre_delete(self, item):
        dealer_id = current_dealer_id()
        if dealer_id is not None and item.dealer_id != dealer_id:
            abort(404)
        super().pre_delete(item)
