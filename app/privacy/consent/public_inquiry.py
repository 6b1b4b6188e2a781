"""A visitor's inquiry through a dealer's public form, with its consents (GDPR Art. 7).

The privacy notice must be acknowledged (never assumed); marketing consent is separate and
optional. The inquiry is linked to the dealer's existing client with the same e-mail.
A marketing tick changes nothing by itself: anyone can type any address, so the address
is mailed a link and the consent counts once it is confirmed (``app.privacy.consent.opt_in``);
no link goes to an address that objected to direct marketing. Whatever the address's
history, the visitor is answered the same.
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
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    Dealer,
    DealerStatus,
    Inquiry,
    InquirySource,
    MailMessage,
)
from app.models.base import utcnow
from app.privacy.consent import ledger, opt_in


@dataclass(frozen=True)
class ReceivedInquiry:
    inquiry: Inquiry
    client: Client | None
    # The e-mail asking the address to confirm the marketing tick (None: no tick, or an
    # objection). Internal only: the visitor's page must not depend on it.
    confirmation: MailMessage | None


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
    language: str = "en",
    now: datetime | None = None,
    form_token: str | None = None,
) -> ReceivedInquiry:
    """Record the inquiry and the acknowledgement, and ask the address to confirm a
    marketing tick (in ``language``); raises ``DomainError`` (nothing added) when a rule
    is broken. ``ip_address`` and ``user_agent`` are kept only when the dealer records
    visitors' IPs. ``form_token`` is the form's one-time token (see
    ``app.models.sales_flow.inquiry_with_form_token``). The caller commits."""
    now = now or utcnow()
    name, message = (name or "").strip(), (message or "").strip()
    email = normalise_email(email)
    phone = normalise_phone(phone, dealer.country)  # type: ignore[arg-type]
    _check(dealer, name, email, phone, message, privacy_notice_acknowledged, marketing_consent, car)
    client = opt_in.existing_client(session, dealer, email)
    ip = ledger.visitor_ip(dealer, ip_address)
    with session.no_autoflush:
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
            form_token=form_token or None,
        )
        session.add(inquiry)
        ledger.record(
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
    confirmation = None
    if marketing_consent:
        session.flush()  # the link names the inquiry
        confirmation = opt_in.request_confirmation(session, dealer, inquiry, language=language, source=source, now=now)
    return ReceivedInquiry(inquiry=inquiry, client=client, confirmation=confirmation)


def _check(
    dealer: Dealer,
    name: str,
    email: str | None,
    phone: str | None,
    message: str,
    acknowledged: bool,
    marketing: bool,
    car: Car | None,
) -> None:
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
