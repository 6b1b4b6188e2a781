"""Marketing e-mail: who may be sent offers, and putting an offer in the outbox with its
one-click unsubscribe footer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.contact import normalise_email
from app.models import Client, Dealer, MailMessage
from app.privacy.consent.unsubscribe import DEFAULT_MARKETING_KIND, MARKETING_KINDS, unsubscribe_url
from app.privacy.consent.withdrawal import has_objected
from app.privacy.links import public_url


def may_send_marketing(session: Session, dealer_id: int, email: str | None) -> bool:
    """A client of the dealer with this address has consent, has not objected and is not
    restricted, and no client with this address objected."""
    email = normalise_email(email) if email else None
    if not email or has_objected(session, dealer_id, email):
        return False
    found = session.scalar(
        select(Client.id)
        .where(
            Client.dealer_id == dealer_id,
            Client.email == email,
            Client.marketing_consent.is_(True),
            Client.restricted_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


def queue_marketing_mail(
    session: Session, dealer_id: int, email: str, kind: str = DEFAULT_MARKETING_KIND, language: str = "en", **context: Any
) -> MailMessage | None:
    """Put a marketing e-mail in the outbox with the unsubscribe footer, or None when
    the person has not consented (or withdrew, or objected)."""
    from app.mail.notices import queue_notice

    if kind not in MARKETING_KINDS:
        raise ValueError(f"{kind!r} is not a marketing kind")
    if not may_send_marketing(session, dealer_id, email):
        return None
    dealer = session.get(Dealer, dealer_id)
    address = normalise_email(email)
    if dealer is None or address is None:  # may_send_marketing found a client of this dealer with this address
        return None
    return queue_notice(
        session,
        kind,
        to=address,
        language=language,
        mail_language=language,
        dealer=dealer,
        unsubscribe_url=unsubscribe_url(dealer_id, address, session, kind=kind),
        marketing_page_url=public_url(f"/d/{dealer.slug}/marketing"),
        **context,
    )
