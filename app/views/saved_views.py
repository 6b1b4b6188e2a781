"""Saved views: save a list's filters, sort and columns under a name, reopen, delete.

The rules: ``app.domain.finding`` (what a list accepts, the name), ``app.models.saved_views``
(who sees which view, saving). A view is opened only on a list the user may still see,
and its filters run through the list's own tenant and restriction filters again.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.domain import DomainError
from app.domain.finding import clean_list_state, clean_view_name
from app.extensions import db
from app.finding import FindingMixin
from app.models.saved_views import SavedView, find_view, save_view, views_for
from app.saving import saving
from app.signed_in import current_user

MAX_QUERY = 2000


def _owner() -> tuple[int, int | None]:
    user = current_user()
    if user is None:
        abort(404)
    return user.id, getattr(user, "dealer_id", None)


class SavedViewsView(BaseView):
    """The menu's "Saved views" page and the "Save this view" form of every list."""

    route_base = "/savedviews"
    default_view = "list"
    template = "lists/saved_views.html"

    def finding_list(self, list_name: str):
        """The registered list of that name, if the user may open it; else None."""
        for view in self.appbuilder.baseviews:
            if isinstance(view, FindingMixin) and view.__class__.__name__ == list_name:
                return view if self.appbuilder.sm.has_access("can_list", list_name) else None
        return None

    @expose("/list/")
    @has_access
    def list(self):
        user_id, dealer_id = _owner()
        rows = []
        for saved in views_for(db.session, user_id, dealer_id):
            view = self.finding_list(saved.list_name)
            if view is not None:
                rows.append((saved, str(view.list_title or saved.list_name), saved.user_id == user_id))
        return self.render_template(self.template, title=_("Saved views"), rows=rows)

    @expose("/save", methods=["POST"])
    @has_access
    def save(self):
        user_id, dealer_id = _owner()
        list_name = request.form.get("list_name", "")
        view = self.finding_list(list_name)
        if view is None:
            abort(404)
        query = request.form.get("query", "")
        back = url_for(f"{view.endpoint}.list") + (f"?{query}" if query and len(query) <= MAX_QUERY else "")
        with saving() as saved:
            if len(query) > MAX_QUERY:
                raise DomainError(_("This view has too many filters to be saved."), "query")
            state = clean_list_state(parse_qsl(query, keep_blank_values=False), view.list_spec())
            name = clean_view_name(request.form.get("name"))
            item = save_view(
                db.session, user_id, dealer_id, list_name, name, urlencode(state.query_pairs(list_name)), bool(request.form.get("shared"))
            )
        if saved.ok:
            flash(_("View “%(name)s” saved.", name=item.name), "success")
        return redirect(back)

    @expose("/open/<int:pk>")
    @has_access
    def open(self, pk: int):
        saved = self._visible(pk)
        view = self.finding_list(saved.list_name)
        if view is None:
            abort(404)
        target = url_for(f"{view.endpoint}.list")
        return redirect(f"{target}?{saved.query}" if saved.query else target)

    @expose("/delete/<int:pk>", methods=["POST"])
    @has_access
    def delete(self, pk: int):
        user_id, _dealer_id = _owner()
        saved = self._visible(pk)
        if saved.user_id != user_id:
            abort(404)  # another user's shared view: theirs to delete
        name = saved.name
        with saving() as done:
            db.session.delete(saved)
        if done.ok:
            flash(_("View “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("SavedViewsView.list"))

    def _visible(self, pk: int) -> SavedView:
        user_id, dealer_id = _owner()
        saved = find_view(db.session, pk, user_id, dealer_id) if pk <= 2**31 - 1 else None
        if saved is None:
            abort(404)
        return saved
