"""The sales flow's rules that read tables: which cars may get a sale, turning an
inquiry into a client (matched by e-mail or phone, else created), the inquiries the
dealer's users have not seen yet, and the public form's one-time token.

Plain-value rules (labels, name splitting, what makes a car sellable) live in
``app.domain.sales_flow``; the caller commits, so a change is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.domain.sales_flow import UNSELLABLE_STATUSES, contact_keys, split_name
from app.models.base import utcnow
from app.models.clients import Client, ClientSource
from app.models.inquiries import Inquiry, InquirySource
from app.models.inventory import Car, CarStatus
from app.models.sales import Sale, SaleStatus

# An inquiry's source as the source of the client made from it.
CLIENT_SOURCE = {
    InquirySource.website: ClientSource.website,
    InquirySource.phone: ClientSource.phone,
    InquirySource.walk_in: ClientSource.walk_in,
    InquirySource.marketplace: ClientSource.marketplace,
}


def live_sale_exists() -> Any:
    """SQL: the car (``Car``) has a draft or sold sale."""
    return exists().where(Sale.car_id == Car.id, Sale.status != SaleStatus.voided)


def sellable_clause() -> Any:
    """SQL: a car that may get a new sale (``app.domain.sales_flow.is_sellable``)."""
    unsellable = [CarStatus(value) for value in UNSELLABLE_STATUSES]
    return and_(Car.status.not_in(unsellable), ~live_sale_exists())


def live_sale_of(session: Session, car_id: int) -> Sale | None:
    """The car's draft or sold sale, if any."""
    return session.scalars(select(Sale).where(Sale.car_id == car_id, Sale.status != SaleStatus.voided).order_by(Sale.id)).first()


def is_car_sellable(session: Session, car: Car) -> bool:
    return bool(session.scalar(select(func.count(Car.id)).where(Car.id == car.id, sellable_clause())))


def matching_client(session: Session, dealer_id: int, email: str | None, phone: str | None) -> Client | None:
    """The dealer's client with this e-mail, else with this phone (both normalised as
    stored); restricted clients and erasure placeholders never match."""
    for column, value in contact_keys(email, phone).items():
        found = session.scalars(
            select(Client)
            .where(
                Client.dealer_id == dealer_id,
                getattr(Client, column) == value,
                Client.restricted_at.is_(None),
                Client.is_erasure_placeholder.is_(False),
            )
            .order_by(Client.id)
        ).first()
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class ClientFromInquiry:
    client: Client
    created: bool


def make_client_from_inquiry(session: Session, inquiry: Inquiry) -> ClientFromInquiry:
    """Link the inquiry to its client: the one it already has, the dealer's client with
    the same e-mail or phone, or a new client with the inquiry's name and contact details.
    The caller commits (one transaction)."""
    if inquiry.client is not None:
        return ClientFromInquiry(inquiry.client, created=False)
    client = matching_client(session, inquiry.dealer_id, inquiry.email, inquiry.phone)
    created = client is None
    if client is None:
        first, last = split_name(inquiry.name)
        with session.no_autoflush:
            client = Client(
                dealer=inquiry.dealer,
                dealer_id=inquiry.dealer_id,
                first_name=first[:100],
                last_name=last[:100],
                country=inquiry.dealer.country if inquiry.dealer is not None else None,
                source=CLIENT_SOURCE.get(inquiry.source, ClientSource.other),
            )
            client.email = inquiry.email
            client.phone = inquiry.phone
            session.add(client)
    inquiry.client = client
    session.flush()
    return ClientFromInquiry(client, created=created)


def unseen_inquiry_count(session: Session, dealer_id: int) -> int:
    """Inquiries none of the dealer's users has opened yet (restricted ones are hidden)."""
    return int(
        session.scalar(
            select(func.count(Inquiry.id)).where(Inquiry.dealer_id == dealer_id, Inquiry.seen_at.is_(None), Inquiry.restricted_at.is_(None))
        )
        or 0
    )


def mark_seen(inquiry: Inquiry, now: datetime | None = None) -> bool:
    """Note the first time a dealer user opens the inquiry; True when this changed it."""
    if inquiry.seen_at is not None:
        return False
    inquiry.seen_at = now or utcnow()
    return True


def inquiry_with_form_token(session: Session, dealer_id: int, token: str | None) -> Inquiry | None:
    """The inquiry a public form with this one-time token already created, if any."""
    if not token:
        return None
    return session.scalars(select(Inquiry).where(Inquiry.dealer_id == dealer_id, Inquiry.form_token == token)).first()
