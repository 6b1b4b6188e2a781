"""User management: internal staff see everyone, a dealer admin only its dealer's users.

Who may grant what is one rule (``app.domain.grants``); this view applies it to every
add, edit, delete and password reset, and offers only the roles and dealers the editor
may hand out.
"""

from __future__ import annotations

from flask import abort, request
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired

from app.auth.editors import account_of, assignable_role_names, editor_account, stored_account
from app.auth.forms import confirm_password_field, new_password_field
from app.domain.grants import GrantRefused, check_delete, check_manage, check_user
from app.extensions import db
from app.i18n.languages import language_name
from app.saving import refused_forms_rolled_back
from app.tenancy import TenantActionsMixin, current_dealer_id, tenant_filters
from app.views.profile import language_field

_LANGUAGE = language_field()


def with_language(fieldset: tuple) -> tuple:
    """FAB's "Personal Info" fieldset plus the preferred language."""
    title, spec = fieldset
    if "email" not in spec.get("fields", []):
        return fieldset
    return title, {**spec, "fields": [*spec["fields"], "preferred_language"]}


def _refused(exc: GrantRefused):
    abort(403, description=str(exc.message))


class ForecourtUserDBModelView(TenantActionsMixin, UserDBModelView):
    base_filters = tenant_filters("dealer_id")
    list_columns = ["first_name", "last_name", "username", "email", "dealer", "active", "roles"]
    search_columns = ["first_name", "last_name", "username", "email", "active", "roles", "dealer"]
    add_columns = [c for c in UserDBModelView.add_columns[:-2] if c != "groups"] + [
        "dealer",
        "preferred_language",
        "password",
        "conf_password",
    ]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles", "dealer", "preferred_language"]
    add_form_extra_fields = {
        "password": new_password_field(),
        "conf_password": confirm_password_field(),
        "preferred_language": _LANGUAGE,
    }
    edit_form_extra_fields = {"preferred_language": _LANGUAGE}
    _scoped = {"roles": [["name", FilterInFunction, assignable_role_names]], "dealer": tenant_filters("id")}
    add_form_query_rel_fields = _scoped
    edit_form_query_rel_fields = _scoped
    search_form_query_rel_fields = _scoped
    label_columns = {**UserDBModelView.label_columns, "dealer": _l("Dealer"), "preferred_language": _l("Language")}
    formatters_columns = {"preferred_language": language_name}
    # FAB's hints speak of LDAP and OID auth, which Forecourt does not use.
    description_columns = {
        **UserDBModelView.description_columns,
        "username": _l("The name this person signs in with."),
        "email": _l("Forecourt sends this person's notices to this address."),
        "roles": _l("What this person may see and do."),
        "active": _l("An inactive user cannot sign in. Deactivate users rather than delete them."),
        "dealer": _l("The dealer whose records this person works with; empty for the service's own staff."),
    }
    # The user's page and their own "Profile" show their language with the personal info.
    show_fieldsets = [with_language(fieldset) for fieldset in UserDBModelView.show_fieldsets]
    user_show_fieldsets = [with_language(fieldset) for fieldset in UserDBModelView.user_show_fieldsets]
    # Groups are left out (a group could carry any role), so roles alone are required.
    validators_columns = {"roles": [DataRequired()]}

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """Only a user the editor may manage opens for editing; others are refused as a
        whole (403), another dealer's users are missing (404)."""
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        try:
            check_manage(editor_account(), account_of(item))
        except GrantRefused as exc:
            _refused(exc)
        return super().edit(pk)

    def _stamp_dealer(self, item) -> None:
        """A dealer admin's users always belong to its own dealer (no "no dealer")."""
        dealer_id = current_dealer_id()
        if dealer_id is None:
            return
        from app.models import Dealer

        chosen = item.dealer.id if item.dealer is not None else None
        if chosen is not None and chosen != dealer_id:
            raise GrantRefused(_l("A record cannot move to another dealer."), "dealer")
        with db.session.no_autoflush:
            item.dealer = db.session.get(Dealer, dealer_id)

    @staticmethod
    def _refuse_unoffered_roles(item) -> None:
        """FAB's multiple select silently drops ids it did not offer; a forged role is an
        error, not a quiet "Changed Row"."""
        asked = set(request.form.getlist("roles"))
        if asked - {str(role.id) for role in item.roles}:
            raise GrantRefused(_l("You cannot give this role."), "roles")

    def _guarded(self, check, item) -> None:
        with refused_forms_rolled_back():
            self._refuse_unoffered_roles(item)
            self._stamp_dealer(item)
            check(item)

    def pre_add(self, item):
        self._guarded(lambda user: check_user(editor_account(), None, account_of(user)), item)
        super().pre_add(item)

    def pre_update(self, item):
        self._guarded(lambda user: check_user(editor_account(), stored_account(user), account_of(user)), item)
        super().pre_update(item)

    def pre_delete(self, item):
        dealer_id = current_dealer_id()
        if dealer_id is not None and item.dealer_id != dealer_id:
            abort(404)
        check_delete(editor_account(), account_of(item))
        super().pre_delete(item)
