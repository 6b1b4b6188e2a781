"""Words that name the record: "Car N0100 added" instead of FAB's "Added Row", and the
record's own title ("Volkswagen Passat 2020 (N0100)") on its page instead of "Show record".

``NamedRecordsMixin`` sits in front of FAB's ``ModelView``: FAB flashes
``add_row_message`` / ``edit_row_message`` / ``delete_row_message`` after a save and
passes ``show_title`` / ``edit_title`` to the page; here the messages are read per request
from the record just saved, and the page titles from the record shown. A view says how
its records are called with ``record_kind`` (a noun; its ``show_title`` by default),
``record_name(item)`` (short, for messages) and ``record_title(item)`` (for the page).
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request
from flask_babel import gettext as _

from app.i18n.languages import N_

_SAVED = "forecourt_saved_record"
ADDED = N_("%(kind)s %(record)s added")
SAVED = N_("%(kind)s %(record)s saved")
DELETED = N_("%(kind)s %(record)s deleted")


def default_name(item: Any) -> str:
    """``str(item)`` where the model says how it is called, else its number."""
    if type(item).__str__ is not object.__str__:
        text = str(item).strip()
        if text:
            return text
    return f"#{getattr(item, 'id', '')}"


class NamedRecordsMixin:
    """Flash messages and page titles that name the record (FAB's are generic)."""

    record_kind: Any = None  # a noun such as _l("Car"); the view's show_title when unset

    def record_name(self, item: Any) -> str:
        return default_name(item)

    def record_title(self, item: Any) -> str:
        return default_name(item)

    # -- messages: remember the saved record, FAB reads the message after the hook ----------

    def _remember_saved(self, item: Any) -> None:
        if has_request_context():
            setattr(g, _SAVED, (str(self.record_kind or self.show_title), self.record_name(item)))

    def post_add(self, item):
        self._remember_saved(item)
        return super().post_add(item)

    def post_update(self, item):
        self._remember_saved(item)
        return super().post_update(item)

    def pre_delete(self, item):
        result = super().pre_delete(item)
        self._remember_saved(item)  # after the delete its columns may be gone
        return result

    def _saved_message(self, message: str, fallback: str) -> str:
        saved = g.get(_SAVED) if has_request_context() else None
        if not saved:
            return _(fallback)
        kind, name = saved
        return _(message, kind=kind, record=name)

    @property
    def add_row_message(self) -> str:
        return self._saved_message(ADDED, "Added Row")

    @property
    def edit_row_message(self) -> str:
        return self._saved_message(SAVED, "Changed Row")

    @property
    def delete_row_message(self) -> str:
        return self._saved_message(DELETED, "Deleted Row")

    # -- page titles: the record shown or edited -------------------------------------------

    def render_template(self, template, **kwargs):
        if template in (self.show_template, self.edit_template) and request.view_args and "pk" in request.view_args:
            item = self.datamodel.get(self._deserialize_pk_if_composite(request.view_args["pk"]), self._base_filters)
            if item is not None:
                title = self.record_title(item)
                kwargs["title"] = title if template == self.show_template else _("Edit %(record)s", record=title)
        return super().render_template(template, **kwargs)
