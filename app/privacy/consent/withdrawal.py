"""Withdrawing marketing consent (GDPR Art. 7(3)) and objecting to direct marketing
(Art. 21(3)).

Withdrawing takes one click: the signed link in every marketing e-mail
(``app.privacy.consent.unsubscribe``) or the dealer's public withdrawal page. An objection
switches consent off for good: consent cannot be given again after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.contact import normalise_email
from app.models import Client, ConsentMethod, Dealer
from app.models.base import utcnow
from app.privacy.consent.ledger import set_marketing


def withdraw(
    session: Session,
    dealer: Dealer,
    clients: Iterable[Client],
    *,
    method: ConsentMethod,
    source: str,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> int:
    """Withdraw marketing consent for each client that has it (a ``withdrawn`` record
    each); how many. A client without consent is left alone and gets no record, so a
    repeated withdrawal (the RFC 8058 one-click POST plus the person's own click) or one
    for a client who never consented writes nothing; the caller answers the same."""
    now = now or utcnow()
    count = 0
    for client in clients:
        if not client.marketing_consent:
            continue
        set_marketing(session, client, False, method=method, source=source, ip_address=ip_address, now=now)
        count += 1
    return count


def withdraw_by_email(
    session: Session,
    dealer: Dealer,
    email: str,
    *,
    method: ConsentMethod,
    source: str,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> int:
    """Withdraw marketing consent for every client of ``dealer`` with this address.

    Nothing is stored for an address the dealer does not know; the caller answers the
    same either way. Raises ``DomainError`` for an invalid address.
    """
    address = normalise_email(email)
    if not address:
        return 0
    clients = session.scalars(
        select(Client)
        .where(Client.dealer_id == dealer.id, Client.email == address, Client.is_erasure_placeholder.is_(False))
        .order_by(Client.id)
    ).all()
    return withdraw(session, dealer, clients, method=method, source=source, ip_address=ip_address, now=now)


def has_objected(session: Session, dealer_id: int, email: str | None) -> bool:
    """Did a client of this dealer with this address object to direct marketing?"""
    if not email:
        return False
    found = session.scalar(
        select(Client.id).where(Client.dealer_id == dealer_id, Client.email == email, Client.marketing_objected_at.is_not(None)).limit(1)
    )
    return found is not None


def record_objection(session: Session, clients: Iterable[Client], *, source: str, now: datetime | None = None) -> int:
    """An objection to direct marketing (GDPR Art. 21(3)): consent off and the objection
    stamped on every client, each with a ``withdrawn`` record; how many had consent."""
    now = now or utcnow()
    withdrawn = 0
    for client in clients:
        withdrawn += bool(client.marketing_consent)
        set_marketing(session, client, False, method=ConsentMethod.objection, source=source, now=now)
        if client.marketing_objected_at is None:
            client.marketing_objected_at = now
    return withdrawn
