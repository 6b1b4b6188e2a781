"""Rules that read or write the tables: a car's checks and its price and status history,
one live sale per car, possible duplicate clients, and a terminated dealer frozen.

Rules on plain values live in ``app.domain``; the flush-time ones here are installed by
``app.model_events``.

A terminated dealer account changes only through ``app.privacy.lifecycle`` (day 30
empties the profile with a Core UPDATE and stamps ``account_deleted_at``; three years
stamp ``records_erased_at``), and it is never deleted: it stays as the tombstone that
privacy requests, breach notices and retention events point at. The rule runs on every
flush, so neither a form, the REST API, a job nor the shell can edit a terminated dealer
(say, put a slug or an e-mail back after day 30) or hard-delete one.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import Session, object_session

from app.domain import DomainError
from app.domain.vin import check_vin
from app.models.clients import Client
from app.models.dealers import Dealer, DealerStatus
from app.models.inventory import Car, CarPriceChange, CarStatus, CarStatusChange
from app.models.sales import Sale, SaleStatus

# Columns the lifecycle steps stamp on a terminated dealer through the ORM.
LIFECYCLE_COLUMNS = frozenset({"account_deleted_at", "records_erased_at"})
# Set ``session.info[LIFECYCLE_FLAG] = True`` in lifecycle code that must change more.
LIFECYCLE_FLAG = "account_lifecycle"


def validate_car(car: Any, session: Session) -> list[str]:
    """Raise ``DomainError`` for a car that breaks a rule; return warnings to show."""
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
            select(Car.id).where(Car.dealer_id == car.dealer_id, Car.stock_number == car.stock_number, Car.id != (car.id or -1))
        )
        if clash:
            raise DomainError(_l("Stock number %(n)s is already in use.", n=car.stock_number), "stock_number")
    return result.warnings


def record_car_history(session: Session, acting_user_id: int | None) -> None:
    """Add a history row for every new or changed price and status in this flush."""
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
    changed, refused = 0, []
    for car in cars:
        if published and car.status in (CarStatus.sold, CarStatus.archived):
            refused.append(car.stock_number)
            continue
        if car.published != published:
            car.published = published
            changed += 1
    return changed, refused


def archive_cars(cars: list[Any]) -> tuple[int, list[str]]:
    """Archive cars (off the stock and the listing, history and sale kept); a car whose
    sale is a draft is refused: the sale is finished or voided first."""
    changed, refused = 0, []
    for car in cars:
        if car.status == CarStatus.archived:
            continue
        session = object_session(car)
        draft = session is not None and session.scalar(select(Sale.id).where(Sale.car_id == car.id, Sale.status == SaleStatus.draft))
        if draft:
            refused.append(car.stock_number)
            continue
        car.status = CarStatus.archived
        car.published = False
        changed += 1
    return changed, refused


def refuse_deleting_referenced(item: Any, session: Session) -> None:
    """Raise ``DomainError`` when rows must keep pointing at ``item`` (ON DELETE RESTRICT
    or NO ACTION): deleting it would be refused by the database or leave them orphaned. A
    car with a sale is archived instead; a client who bought a car goes by erasure."""
    if isinstance(item, Car):
        deal = session.scalar(select(Sale.deal_number).where(Sale.car_id == item.id).order_by(Sale.id).limit(1))
        if deal:
            raise DomainError(
                _l("Car %(car)s has sale %(deal)s and is kept with it: archive the car instead.", car=item.stock_number, deal=deal)
            )
    if isinstance(item, Client):
        deal = session.scalar(select(Sale.deal_number).where(Sale.client_id == item.id).order_by(Sale.id).limit(1))
        if deal:
            raise DomainError(
                _l(
                    "This client bought a car (sale %(deal)s) and is kept with the sale: to erase the person, file an erasure request.",
                    deal=deal,
                )
            )
    table = type(item).__table__
    (pk,) = table.primary_key.columns
    keeping = [
        fk.parent
        for child in type(item).metadata.sorted_tables
        for fk in child.foreign_keys
        if fk.column.table is table and (fk.ondelete or "NO ACTION").upper() in ("RESTRICT", "NO ACTION")
    ]
    for column in keeping:
        if session.scalar(select(column).where(column == getattr(item, pk.key)).limit(1)) is not None:
            raise DomainError(_l("This record cannot be deleted: other records refer to it."))


def validate_sale(sale: Any, session: Session) -> None:
    """Raise ``DomainError`` for a sale that breaks a rule: one live sale per car, unique deal numbers."""
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
        select(Sale.id).where(Sale.dealer_id == sale.dealer_id, Sale.deal_number == sale.deal_number, Sale.id != (sale.id or -1))
    )
    if clash:
        raise DomainError(_l("Deal number %(n)s is already in use.", n=sale.deal_number), "deal_number")


def apply_sales_to_cars(session: Session) -> None:
    """Keep car status in step with its sale: sold → car sold; voided → car available."""
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


def flag_possible_duplicates(session: Session, client: Any) -> None:
    """Flag the client, and the dealer's clients sharing its e-mail or phone, as possible duplicates."""
    keys = []
    if client.email:
        keys.append(Client.email == client.email)
    if client.phone:
        keys.append(Client.phone == client.phone)
    if not keys:
        client.possible_duplicate = False
        return
    others = session.scalars(
        select(Client.id).where(Client.dealer_id == client.dealer_id, Client.id != (client.id or -1), or_(*keys))
    ).all()
    client.possible_duplicate = bool(others)
    if others:
        session.execute(update(Client).where(Client.id.in_(others)).values(possible_duplicate=True))


def refuse_terminated_dealer_changes(session: Session) -> None:
    """Flush-time rule: refuse any change to a dealer whose stored status is terminated
    (other than the lifecycle stamps), and the deletion of a terminated dealer."""
    if session.info.get(LIFECYCLE_FLAG):
        return
    for dealer in session.deleted:
        if isinstance(dealer, Dealer) and _stored_terminated(session, dealer):
            raise DomainError(_l("A terminated dealer account cannot be deleted: it is erased on schedule."))
    for dealer in session.dirty:
        if not isinstance(dealer, Dealer) or not session.is_modified(dealer, include_collections=False):
            continue
        state = inspect(dealer)
        changed = {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}
        if changed - LIFECYCLE_COLUMNS and _stored_terminated(session, dealer):
            raise DomainError(_l("A terminated dealer account cannot be changed."))


def _stored_terminated(session: Session, dealer) -> bool:
    history = inspect(dealer).attrs.status.history
    if history.deleted:
        stored = history.deleted[0]
    elif history.unchanged:
        stored = history.unchanged[0]
    else:  # not loaded (or overwritten unseen): read what the database holds
        with session.no_autoflush:
            stored = session.scalar(select(type(dealer).status).where(type(dealer).id == dealer.id))
    return stored is DealerStatus.terminated or stored == DealerStatus.terminated.value
