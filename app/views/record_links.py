"""What record pages and the menu show of the sales flow, as template helpers: a car's
sale (or whether it can get one), and the count of inquiries nobody has opened yet."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from markupsafe import Markup, escape

from app.datamodel import as_row_id
from app.extensions import db
from app.models import Car
from app.models.sales_flow import is_car_sellable, live_sale_of, unseen_inquiry_count
from app.tenancy import NO_DEALER, current_dealer_id


def car_sale(car_pk: Any) -> dict[str, Any]:
    """``{"sale": the car's live sale or None, "sellable": may it get one}``; the car is the
    one the show page (tenant-scoped) displays. A restricted sale is not shown."""
    car_id = as_row_id(car_pk)
    car = db.session.get(Car, car_id) if car_id is not None else None
    dealer_id = current_dealer_id()
    if car is None or (dealer_id is not None and car.dealer_id != dealer_id):
        return {"sale": None, "sellable": False}
    sale = live_sale_of(db.session, car.id)
    if sale is not None and sale.restricted_at is not None:
        sale = None
    return {"sale": sale, "sellable": is_car_sellable(db.session, car)}


def unseen_inquiries() -> int:
    """Inquiries of the signed-in user's dealer that nobody opened yet (0 for others)."""
    dealer_id = current_dealer_id()
    if dealer_id is None or dealer_id == NO_DEALER:
        return 0
    return unseen_inquiry_count(db.session, dealer_id)


def link_to(endpoint: str, obj: Any, label: str | None = None) -> Markup | str:
    """A related record as a link to its page (empty when there is none)."""
    if obj is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for(endpoint, pk=obj.id), escape(label or str(obj)))


def may(permission: str, view_name: str) -> bool:
    """The signed-in user holds ``permission`` on the view (for templates FAB renders
    without its ``appbuilder`` context, e.g. the show widget)."""
    from flask import current_app

    return bool(current_app.appbuilder.sm.has_access(permission, view_name))


def register_record_links(app: Flask) -> None:
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["car_sale"] = car_sale
    app.jinja_env.globals["unseen_inquiries"] = unseen_inquiries
    app.jinja_env.globals["make_client_allowed"] = make_client_allowed


def make_client_allowed(inquiry_pk: Any) -> bool:
    """The inquiry (of the user's dealer, not restricted) has no client yet, and the user
    may edit inquiries and add clients."""
    from app.models import Inquiry
    from app.signed_in import current_user

    inquiry_id = as_row_id(inquiry_pk)
    inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id is not None else None
    dealer_id = current_dealer_id()
    if inquiry is None or inquiry.client_id is not None or inquiry.restricted_at is not None:
        return False
    if dealer_id is not None and inquiry.dealer_id != dealer_id:
        return False
    return current_user() is not None and may("can_edit", "InquiryModelView") and may("can_add", "ClientModelView")
