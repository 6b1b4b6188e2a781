"""Inventory rules: VIN checks per car, and the price/status history."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.vin import check_vin


def validate_car(car: Any, session: Session) -> list[str]:
    """Raise ``DomainError`` for a car that breaks a rule; return warnings to show."""
    from app.models.inventory import Car, CarStatus
    from app.models.sales import Sale, SaleStatus

    status = inspect(car).attrs.status.history
    if car.status == CarStatus.sold and (car.id is None or status.has_changes()):
        sold = car.id and session.scalar(select(Sale.id).where(Sale.car_id == car.id, Sale.status == SaleStatus.sold))
        if not sold:
            raise DomainError(_l("A car becomes sold when its sale is recorded."), "status")
    result = check_vin(car.vin, car.year, bool(car.legacy_chassis_number))
    if result.errors:
        raise DomainError(result.errors[0], "vin")
    car.vin = result.vin
    if car.stock_number:
        car.stock_number = car.stock_number.strip()
        clash = session.scalar(
            select(Car.id).where(
                Car.dealer_id == car.dealer_id, Car.stock_number == car.stock_number, Car.id != (car.id or -1)
            )
        )
        if clash:
            raise DomainError(_l("Stock number %(n)s is already in use.", n=car.stock_number), "stock_number")
    return result.warnings


def record_car_history(session: Session, acting_user_id: int | None) -> None:
    """Add a history row for every new or changed price and status in this flush."""
    from app.models.inventory import Car, CarPriceChange, CarStatusChange

    for car in list(session.new) + list(session.dirty):
        if not isinstance(car, Car):
            continue
        state = inspect(car)
        price = state.attrs.asking_price_minor.history
        status = state.attrs.status.history
        if car in session.new or price.has_changes():
            old = price.deleted[0] if price.deleted else None
            if car in session.new or old != car.asking_price_minor:
                session.add(
                    CarPriceChange(
                        car=car,
                        dealer=car.dealer,
                        old_price_minor=old,
                        new_price_minor=car.asking_price_minor,
                        currency=car.currency,
                        changed_by_id=acting_user_id,
                    )
                )
        if car in session.new or status.has_changes():
            old = status.deleted[0] if status.deleted else None
            if car in session.new or old != car.status:
                session.add(
                    CarStatusChange(
                        car=car,
                        dealer=car.dealer,
                        old_status=old,
                        new_status=car.status,
                        changed_by_id=acting_user_id,
                    )
                )


def set_published(cars: list[Any], published: bool) -> tuple[int, list[str]]:
    """Publish or unpublish cars; sold and archived cars are never published."""
    from app.models.inventory import CarStatus

    changed, refused = 0, []
    for car in cars:
        if published and car.status in (CarStatus.sold, CarStatus.archived):
            refused.append(car.stock_number)
            continue
        if car.published != published:
            car.published = published
            changed += 1
    return changed, refused
