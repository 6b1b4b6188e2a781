"""Sales rules: one live sale per car; a sold sale marks the car sold."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError


def validate_sale(sale: Any, session: Session) -> None:
    from app.models.inventory import CarStatus
    from app.models.sales import Sale, SaleStatus

    if sale.deal_number:
        sale.deal_number = sale.deal_number.strip()
    if sale.status == SaleStatus.voided:
        return
    car_id = sale.car.id if sale.car is not None else sale.car_id
    if car_id is None:
        raise DomainError(_l("Choose the car that is sold."), "car")
    other = session.scalar(
        select(Sale.deal_number).where(Sale.car_id == car_id, Sale.status != SaleStatus.voided, Sale.id != (sale.id or -1))
    )
    if other:
        raise DomainError(_l("This car already has sale %(deal)s; void it first.", deal=other), "car")
    car = sale.car
    if car is not None and car.status == CarStatus.archived:
        raise DomainError(_l("An archived car cannot be sold."), "car")
    clash = session.scalar(
        select(Sale.id).where(
            Sale.dealer_id == sale.dealer_id, Sale.deal_number == sale.deal_number, Sale.id != (sale.id or -1)
        )
    )
    if clash:
        raise DomainError(_l("Deal number %(n)s is already in use.", n=sale.deal_number), "deal_number")


def apply_sales_to_cars(session: Session) -> None:
    """Keep car status in step with its sale: sold → car sold; voided → car available."""
    from app.models.inventory import CarStatus
    from app.models.sales import Sale, SaleStatus

    for sale in list(session.new) + list(session.dirty):
        if not isinstance(sale, Sale) or sale.car is None:
            continue
        car = sale.car
        if sale.status == SaleStatus.sold and car.status != CarStatus.sold:
            car.status = CarStatus.sold
            car.sold_on = sale.sale_date
            car.published = False
        elif sale.status == SaleStatus.voided and car.status == CarStatus.sold:
            car.status = CarStatus.available
            car.sold_on = None
