"""A visitor's inquiry through a dealer's public form, with its consents (GDPR Art. 7).

The privacy notice must be acknowledged (never assumed); marketing consent is separate and
optional. The inquiry is linked to the dealer's existing client with the same e-mail;
marketing consent needs a client, so one is created from the inquiry when there is none,
unless the person objected to direct marketing, which no later tick overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.contact import normalise_email, normalise_phone
from app.domain.text import single_line
from app.models import (
    Car,
    Client,
    ClientSource,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    Dealer,
    DealerStatus,
    Inquiry,
    InquirySource,
)
from app.models.base import utcnow
from app.privacy import consent


@dataclass(frozen=True)
class ReceivedInquiry:
    inquiry: Inquiry
    client: Client | None
    # True only when marketing consent was actually recorded (not after an objection).
    marketing_recorded: bool


def public_dealer(session: Session, slug: str) -> Dealer | None:
    """The active dealer behind a public page's slug (None: unknown or terminated)."""
    return session.scalars(select(Dealer).where(Dealer.slug == (slug or "").strip().lower(), Dealer.status == DealerStatus.active)).first()


def published_car(session: Session, dealer: Dealer, car_id: int) -> Car | None:
    """A car the dealer lists publicly (None: another dealer's, unpublished or unknown)."""
    return session.scalars(select(Car).where(Car.id == car_id, Car.dealer_id == dealer.id, Car.published.is_(True))).first()


def receive_inquiry(
    session: Session,
    dealer: Dealer,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    message: str,
    privacy_notice_acknowledged: bool,
    marketing_consent: bool,
    source: str,
    car: Car | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> ReceivedInquiry:
    """Record the inquiry and its consents; raises ``DomainError`` (nothing added) when a
    rule is broken. ``ip_address`` and ``user_agent`` are kept only when the dealer
    records visitors' IPs. The caller commits."""
    now = now or utcnow()
    name, message = (name or "").strip(), (message or "").strip()
    email = normalise_email(email)
    phone = normalise_phone(phone, dealer.country)
    _check(dealer, name, email, phone, message, privacy_notice_acknowledged, marketing_consent, car)
    client = _existing_client(session, dealer, email)
    ip = consent.visitor_ip(dealer, ip_address)
    with session.no_autoflush:
        objected = marketing_consent and consent.has_objected(session, dealer.id, email)
        if marketing_consent and not objected and client is None:
            client = _client_from_inquiry(dealer, name, email, phone)
            session.add(client)
        inquiry = Inquiry(
            dealer=dealer,
            car=car,
            client=client,
            name=name[:200],
            email=email,
            phone=phone,
            message=message,
            source=InquirySource.website,
            received_at=now,
            ip_address=ip,
            user_agent=((user_agent or "")[:300] or None) if ip else None,
        )
        session.add(inquiry)
        consent.record(
            session,
            dealer=dealer,
            purpose=ConsentPurpose.privacy_notice,
            action=ConsentAction.acknowledged,
            method=ConsentMethod.inquiry_form,
            source=source,
            client=client,
            inquiry=inquiry,
            email=email,
            ip_address=ip_address,
            now=now,
        )
        recorded = marketing_consent and not objected
        if recorded:
            consent.set_marketing(
                session, client, True, method=ConsentMethod.inquiry_form, source=source, inquiry=inquiry, ip_address=ip_address, now=now
            )
    return ReceivedInquiry(inquiry=inquiry, client=client, marketing_recorded=recorded)


def _check(dealer, name, email, phone, message, acknowledged, marketing, car) -> None:
    if dealer.status is not DealerStatus.active:
        raise DomainError(_l("This dealership does not take inquiries any more."))
    if car is not None and (car.dealer_id != dealer.id or not car.published):
        raise DomainError(_l("This car is not offered by this dealership."), "car")
    if not acknowledged:
        raise DomainError(_l("Please confirm that you have read the privacy notice."), "privacy_notice")
    if not name:
        raise DomainError(_l("Please tell us your name."), "name")
    single_line(name, "name")  # it may reach e-mail subjects
    if not message:
        raise DomainError(_l("Please write your message."), "message")
    if not email and not phone:
        raise DomainError(_l("Give an e-mail address or a phone number, so that the dealer can answer you."), "email")
    if marketing and not email:
        raise DomainError(_l("Give your e-mail address to receive offers: every offer has a link to stop them."), "email")


def _existing_client(session: Session, dealer: Dealer, email: str | None) -> Client | None:
    """The dealer's client with this address (not a restricted one: it is not processed)."""
    if not email:
        return None
    return session.scalars(
        select(Client)
        .where(
            Client.dealer_id == dealer.id,
            Client.email == email,
            Client.restricted_at.is_(None),
            Client.is_erasure_placeholder.is_(False),
        )
        .order_by(Client.id)
        .limit(1)
    ).first()


def _client_from_inquiry(dealer: Dealer, name: str, email: str | None, phone: str | None) -> Client:
    first, _, last = name.partition(" ")
    return Client(
        dealer=dealer,
        dealer_id=dealer.id,
        first_name=first[:100],
        last_name=last.strip()[:100],
        email=email,
        phone=phone,
        country=dealer.country,
        source=ClientSource.website,
        marketing_consent=False,
    )
