"""Lists on a phone: a view names the columns that matter most (``list_narrow_columns``,
e.g. stock number, status and price); the list widget marks the others ``fc-low`` and
``forecourt.css`` hides them below 768 px, so the row fits a 375 px screen without
scrolling sideways. Views that name none keep every column (the table scrolls)."""

from __future__ import annotations


class PriorityColumnsMixin:
    """Hands ``list_narrow_columns`` to the list widget (``widgets/list.html``)."""

    list_narrow_columns: list[str] | None = None

    def _get_list_widget(self, *args, **kwargs):
        kwargs.setdefault("narrow_columns", self.list_narrow_columns or [])
        return super()._get_list_widget(*args, **kwargs)
