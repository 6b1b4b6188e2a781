"""Saved views: a user's named list state (filters, quick search, sort, columns), optionally
shared with the other users of their dealer."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, UniqueConstraint, and_, or_, select
from sqlalchemy.orm import Session, relationship

from app.domain import DomainError
from app.domain.declarations import BY_USER, DELETE, PrivacyDeclaration
from app.models.base import TimestampMixin

MAX_VIEWS_PER_USER = 100


class SavedView(TimestampMixin, Model):
    """``dealer_id`` is the owner's dealer (None for internal staff, whose views are never
    shared); ``list_name`` names the list's view class; ``query`` is the list's query
    string as ``app.domain.finding.clean_list_state`` accepted it."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("user_id", "list_name", "name", name="uq_saved_view_user_list_name"),)

    id = Column(Integer, primary_key=True)
    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    list_name = Column(String(60), nullable=False)
    name = Column(String(80), nullable=False)
    query = Column(String(2000), nullable=False, default="")
    shared = Column(Boolean, nullable=False, default=False)

    dealer = relationship("Dealer")
    user = relationship("DealerUser", foreign_keys=[user_id])

    __privacy__ = PrivacyDeclaration(
        category="usage",
        title=_l("Saved list views"),
        purpose=_l("Letting you reopen the lists you use with their filters and columns"),
        legal_basis=_l("Contract (GDPR Art. 6(1)(b))"),
        recipients=_l("You; the users of your dealership when you share a view"),
        retention=_l("Until you delete the view or your account ends"),
        source=_l("You, when you save a view"),
        # A filter or a quick search may name a client: the whole view goes with its owner.
        personal={"name": DELETE, "query": DELETE},
        not_personal={"list_name": "the name of a list screen"},
        find=(BY_USER,),
        user_column="user_id",
        scope_column=None,
        platform_only=True,
        export_columns=("list_name", "name", "query", "shared", "created_at"),
    )

    def __str__(self) -> str:
        return self.name


def visible_to(user_id: int, dealer_id: int | None):
    """The condition for the views a user may open: their own, and the shared views of their dealer."""
    shared = and_(SavedView.shared.is_(True), SavedView.dealer_id == dealer_id) if dealer_id is not None else False
    return or_(SavedView.user_id == user_id, shared)


def views_for(session: Session, user_id: int, dealer_id: int | None, list_name: str | None = None) -> list[SavedView]:
    query = select(SavedView).where(visible_to(user_id, dealer_id))
    if list_name is not None:
        query = query.where(SavedView.list_name == list_name)
    return list(session.scalars(query.order_by(SavedView.list_name, SavedView.name, SavedView.id)))


def find_view(session: Session, view_id: int, user_id: int, dealer_id: int | None) -> SavedView | None:
    return session.scalar(select(SavedView).where(SavedView.id == view_id, visible_to(user_id, dealer_id)))


def save_view(session: Session, user_id: int, dealer_id: int | None, list_name: str, name: str, query: str, shared: bool) -> SavedView:
    """Save (or replace the user's view of the same name on the same list); flushed."""
    if shared and dealer_id is None:
        raise DomainError(_l("Only the users of a dealership can share a view."), "shared")
    view = session.scalar(select(SavedView).where(SavedView.user_id == user_id, SavedView.list_name == list_name, SavedView.name == name))
    if view is None:
        count = len(session.scalars(select(SavedView.id).where(SavedView.user_id == user_id)).all())
        if count >= MAX_VIEWS_PER_USER:
            raise DomainError(_l("You can keep at most %(num)d saved views; delete one first.", num=MAX_VIEWS_PER_USER), "name")
        view = SavedView(user_id=user_id, dealer_id=dealer_id, list_name=list_name, name=name)
        session.add(view)
    view.query = query
    view.shared = shared
    session.flush()
    return view
