"""Password fields that apply the one password policy (app/domain/passwords.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from app.auth import throttle
from app.domain.passwords import MAX_LENGTH, MIN_LENGTH, WeakPassword, check_password

_OWN_FIELDS = ("username", "first_name", "last_name", "email")


class PasswordPolicy:
    """WTForms validator: the password policy, with the account's own words taken from the
    form's fields and from ``account`` (a callable returning the user, if any)."""

    def __init__(self, account: Callable[[], Any] | None = None) -> None:
        self.account = account

    def __call__(self, form, field) -> None:
        words = [getattr(form, name).data for name in _OWN_FIELDS if hasattr(form, name)]
        user = self.account() if self.account else None
        words += [getattr(user, name, "") or "" for name in _OWN_FIELDS]
        try:
            check_password(field.data or "", [str(word) for word in words if word])
        except WeakPassword as exc:
            raise ValidationError(str(exc.message)) from None


def password_description():
    return _l(
        "%(min)d to %(max)d characters. A few unrelated words make a strong password; common or leaked passwords are refused.",
        min=MIN_LENGTH,
        max=MAX_LENGTH,
    )


def new_password_field(account: Callable[[], Any] | None = None) -> PasswordField:
    return PasswordField(
        _l("Password"),
        description=password_description(),
        validators=[DataRequired(), PasswordPolicy(account)],
        widget=BS3PasswordFieldWidget(),
    )


def confirm_password_field() -> PasswordField:
    return PasswordField(
        _l("Confirm Password"),
        description=_l("Please rewrite the password to confirm"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
        widget=BS3PasswordFieldWidget(),
    )


class CurrentPassword:
    """WTForms validator: the signed-in user's current password (throttled like a login)."""

    def __call__(self, form, field) -> None:
        user = g.user
        if throttle.is_throttled(user.username):
            raise ValidationError(_l("Too many failed attempts. Wait a few minutes and try again."))
        if not user.password or not check_password_hash(user.password, field.data or ""):
            throttle.record_failure(user.username)
            raise ValidationError(_l("This is not your current password."))


def _signed_in_user():
    return g.user


class ChangeMyPasswordForm(DynamicForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), CurrentPassword()], widget=BS3PasswordFieldWidget()
    )
    password = new_password_field(_signed_in_user)
    conf_password = confirm_password_field()


def reset_password_form(account: Callable[[], Any]) -> type[DynamicForm]:
    class ResetPasswordForm(DynamicForm):
        password = new_password_field(account)
        conf_password = confirm_password_field()

    return ResetPasswordForm
