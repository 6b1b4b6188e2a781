"""The signed-in user's own profile (FAB's "Edit user information"), with their language."""

from __future__ import annotations

from flask import session
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.forms import UserInfoEdit
from flask_appbuilder.security.views import UserInfoEditView
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from wtforms import SelectField

from app.i18n.languages import language_choices
from app.i18n.web import SESSION_KEY


def _choices() -> list[tuple[str, str]]:
    return [("", str(_l("As my browser asks")))] + language_choices()


def language_field() -> SelectField:
    """The preferred language: one of ``LANGUAGES``, or none (stored as NULL)."""
    return SelectField(
        _l("Language"),
        choices=_choices,
        coerce=lambda value: value or None,
        default=None,
        widget=Select2Widget(),
        description=_l("Forecourt and its e-mails to you use this language."),
    )


class ProfileForm(UserInfoEdit):
    preferred_language = language_field()


class ForecourtUserInfoEditView(UserInfoEditView):
    # FAB's address and permission name, so links and role grants (app.roles) still apply.
    route_base = "/userinfoeditview"
    class_permission_name = "UserInfoEditView"
    form = ProfileForm

    def form_post(self, form) -> None:
        # The page after saving (and its "changed" message) is in the new language.
        if form.preferred_language.data:
            session[SESSION_KEY] = form.preferred_language.data
        refresh()
        super().form_post(form)
