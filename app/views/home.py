"""The landing page: a dealer's stock at a glance, or a pointer for internal staff."""

from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from app.extensions import db
from app.models import Car, CarStatus, Inquiry, InquiryStatus, Sale, SaleStatus
from app.restriction import can_see_restricted
from app.tenancy import current_dealer_id


class HomeView(IndexView):
    index_template = "forecourt/index.html"

    @expose("/")
    def index(self):
        summary = None
        user = getattr(g, "user", None)
        if user is not None and user.is_authenticated:
            summary = dealer_summary(current_dealer_id(), include_restricted=can_see_restricted(user))
        return self.render_template(self.index_template, appbuilder=self.appbuilder, summary=summary)


def dealer_summary(dealer_id: int | None, include_restricted: bool = False) -> dict:
    """Counts for the dashboard; all dealers for internal staff (dealer_id None). They
    count what the lists show: restricted rows only for who sees them (the privacy officer)."""

    def scoped(stmt, model):
        if not include_restricted:
            stmt = stmt.where(model.restricted_at.is_(None))
        return stmt.where(model.dealer_id == dealer_id) if dealer_id is not None else stmt

    by_status = dict(db.session.execute(scoped(select(Car.status, func.count()).group_by(Car.status), Car)).all())
    new_inquiries = db.session.scalar(scoped(select(func.count()).select_from(Inquiry).where(Inquiry.status == InquiryStatus.new), Inquiry))
    sold = db.session.scalar(scoped(select(func.count()).select_from(Sale).where(Sale.status == SaleStatus.sold), Sale))
    return {
        "cars": [(status, by_status.get(status, 0)) for status in CarStatus],
        "new_inquiries": new_inquiries or 0,
        "sales": sold or 0,
    }
