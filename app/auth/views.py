"""FAB's sign-in, logout and password views, with our rules: throttled logins, logout as a
CSRF-protected POST that ends every session of the user, the password policy everywhere,
the current password to change one's own, and the grant rule to set another user's."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, make_response, request
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.views import AuthDBView, ResetMyPasswordView, ResetPasswordView
from flask_babel import lazy_gettext as _l

from app.auth import throttle
from app.auth.editors import account_of, editor_account, users_query
from app.auth.forms import ChangeMyPasswordForm, reset_password_form
from app.auth.sessions import end_every_session, keep_this_session
from app.domain.grants import GrantRefused, check_password_reset
from app.extensions import db
from app.models.users import DealerUser

TOO_MANY = _l("Too many failed sign-in attempts. Wait a few minutes and try again.")


class ForecourtAuthDBView(AuthDBView):
    @property
    def invalid_login_message(self):  # FAB flashes this when the login fails
        return TOO_MANY if throttle.was_throttled() else _l("Invalid login. Please try again.")

    @expose("/logout/", methods=["POST"])
    def logout(self):
        user = self._get_authenticated_user()
        if user is not None:
            end_every_session(user)
            db.session.commit()
        return super().logout()


class ForecourtResetMyPasswordView(ResetMyPasswordView):
    """Changing one's own password needs the current one; this session goes on, every
    other session and token of the user ends."""

    class_permission_name = "ResetMyPasswordView"  # FAB's name: the role grants still apply
    form = ChangeMyPasswordForm
    form_title = _l("Change my password")

    def form_post(self, form) -> None:
        sm = self.appbuilder.sm
        sm.reset_password(g.user.id, form.password.data)
        keep_this_session(sm.get_user_by_id(g.user.id))
        flash(str(self.message), "info")


def _target_user() -> Any:
    """The user whose password is being set (``?pk=``), within the editor's reach."""
    pk = request.args.get("pk", type=int)
    target = users_query().filter(DealerUser.id == pk).one_or_none() if pk is not None else None
    if target is None:
        abort(404)
    try:
        check_password_reset(editor_account(), account_of(target))
    except GrantRefused as exc:
        abort(403, description=str(exc.message))
    return target


class ForecourtResetPasswordView(ResetPasswordView):
    """Setting another user's password: only a user the editor may manage."""

    class_permission_name = "ResetPasswordView"
    form = reset_password_form(_target_user)

    def form_get(self, form) -> None:
        _target_user()

    def form_post(self, form) -> None:
        target = _target_user()
        self.appbuilder.sm.reset_password(target.id, form.password.data)
        flash(str(self.message), "info")


def _with_429(doc: str) -> str:
    extra = (
        "            429:\n"
        "              description: Too many failed sign-in attempts for this account or client\n"
        "              headers:\n"
        "                Retry-After:\n"
        "                  description: Seconds to wait before the next attempt\n"
        "                  schema:\n"
        "                    type: integer\n"
        "              content:\n"
        "                application/json:\n"
        "                  schema:\n"
        "                    type: object\n"
        "                    properties:\n"
        "                      message:\n"
        "                        type: string\n"
    )
    marker = "            500:\n"
    return doc.replace(marker, extra + marker, 1)


class ForecourtSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        response = super().login()
        if throttle.was_throttled():
            response = make_response({"message": str(TOO_MANY)}, 429)
            response.headers["Retry-After"] = str(throttle.retry_after_seconds())
        return response

    login.__doc__ = _with_429(SecurityApi.login.__doc__ or "")
