"""Double opt-in: marketing consent ticked on a public form counts only once the address
confirms it (GDPR Art. 7(1): the dealer must be able to prove who consented).

Anyone can type any address into a public form, so the tick itself changes nothing: a
signed, expiring link is mailed to the address, in the visitor's language. Opening it
shows a button (link scanners only GET); the POST records the consent in the ledger as
method ``double_opt_in`` at the confirmation time, linked to the inquiry that carried the
tick. An objection to direct marketing (Art. 21(3)) blocks it: no link is mailed to an
objector and a link confirmed after an objection changes nothing. The public form answers
the same whatever the address's history; only its owner, through the link, learns more.

The link names the dealer, the inquiry, a keyed hash of the address (so a rectified
address no longer matches) and the language; it is single-use because the ledger row it
writes is looked for first.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Client,
    ClientSource,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    Inquiry,
    MailMessage,
)
from app.models.base import utcnow
from app.privacy.consent.ledger import set_marketing
from app.privacy.consent.withdrawal import has_objected
from app.privacy.links import LinkError, public_url

CONFIRM = "marketing-opt-in-confirm"
NOTICE = "marketing_confirmation"


class Outcome(enum.Enum):
    confirmed = "confirmed"  # recorded now, or by an earlier click of the same link
    objected = "objected"  # the address objected to direct marketing: nothing recorded
    gone = "gone"  # the inquiry was erased or its address changed


@dataclass(frozen=True)
class Confirmation:
    dealer_id: int
    inquiry_id: int
    email_key: str
    language: str
    source: str


# -- the link ---------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM)


def _email_key(email: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"opt-in\0" + email.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(dealer_id: int, inquiry_id: int, email: str, language: str, source: str) -> str:
    return _serializer().dumps({"d": dealer_id, "i": inquiry_id, "e": _email_key(email), "l": language, "s": source})


def read_token(token: str) -> Confirmation:
    """The confirmation the link is for; ``LinkError`` (``expired`` set) when it is not valid."""
    max_age = int(current_app.config["MARKETING_CONFIRMATION_TTL"].total_seconds())
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(expired=True)
    except BadSignature:
        raise LinkError()
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in "di"):
        raise LinkError()
    if not all(isinstance(data.get(k), str) for k in "els"):
        raise LinkError()
    return Confirmation(data["d"], data["i"], data["e"], data["l"], data["s"])


def confirm_url(dealer: Dealer, inquiry: Inquiry, language: str, source: str) -> str:
    token = make_token(dealer.id, inquiry.id, inquiry.email, language, source)  # type: ignore[arg-type]
    return public_url(f"/d/{dealer.slug}/marketing/confirm/{token}")


# -- asking ----------------------------------------------------------------------------------


def request_confirmation(
    session: Session, dealer: Dealer, inquiry: Inquiry, *, language: str, source: str, now: datetime | None = None
) -> MailMessage | None:
    """Queue the confirmation e-mail for the marketing tick on ``inquiry`` (flushed: it
    needs its id); None when the address objected to direct marketing. The caller commits
    and answers the visitor the same either way."""
    from app.mail.notices import queue_notice

    if not inquiry.email or has_objected(session, dealer.id, inquiry.email):  # type: ignore[arg-type]
        return None
    now = now or utcnow()
    # Emptied once sent: the ledger keeps the proof, the outbox no copy of the address
    # (a dealer-scoped erasure does not look through the platform's outbox).
    return queue_notice(
        session,
        NOTICE,
        to=inquiry.email,  # type: ignore[arg-type]
        language=language,
        scrub_after_send=True,
        dealer=dealer,
        confirm_url=confirm_url(dealer, inquiry, language, source),
        expiry=now + current_app.config["MARKETING_CONFIRMATION_TTL"],
    )


# -- confirming --------------------------------------------------------------------------------


def pending_inquiry(session: Session, dealer: Dealer, link: Confirmation) -> Inquiry | None:
    """The inquiry the link confirms, while it exists with the address it was sent to."""
    if link.dealer_id != dealer.id:
        return None
    inquiry = session.get(Inquiry, link.inquiry_id)
    if inquiry is None or inquiry.dealer_id != dealer.id or not inquiry.email:
        return None
    if inquiry.restricted_at is not None:  # restricted data is not processed (GDPR Art. 18)
        return None
    if not hmac.compare_digest(_email_key(inquiry.email), link.email_key):
        return None
    return inquiry


def confirm(session: Session, dealer: Dealer, link: Confirmation, *, ip_address: str | None = None, now: datetime | None = None) -> Outcome:
    """Record the confirmed marketing consent (once per link). The caller commits."""
    inquiry = pending_inquiry(session, dealer, link)
    if inquiry is None:
        return Outcome.gone
    if has_objected(session, dealer.id, inquiry.email):  # type: ignore[arg-type]
        return Outcome.objected
    if _already_confirmed(session, inquiry):
        return Outcome.confirmed
    now = now or utcnow()
    client = _client_for(session, dealer, inquiry)
    set_marketing(
        session, client, True, method=ConsentMethod.double_opt_in, source=link.source, inquiry=inquiry, ip_address=ip_address, now=now
    )
    return Outcome.confirmed


def _already_confirmed(session: Session, inquiry: Inquiry) -> bool:
    found = session.scalar(
        select(ConsentRecord.id)
        .where(
            ConsentRecord.inquiry_id == inquiry.id,
            ConsentRecord.purpose == ConsentPurpose.marketing,
            ConsentRecord.method == ConsentMethod.double_opt_in,
        )
        .limit(1)
    )
    return found is not None


def _client_for(session: Session, dealer: Dealer, inquiry: Inquiry) -> Client:
    """The dealer's client with the inquiry's address (marketing consent needs a client);
    made from the inquiry when there is none. The inquiry is linked to it."""
    client = existing_client(session, dealer, inquiry.email)  # type: ignore[arg-type]
    if client is None:
        first, _, last = (inquiry.name or "").partition(" ")
        client = Client(
            dealer=dealer,
            dealer_id=dealer.id,
            first_name=first[:100],
            last_name=last.strip()[:100],
            email=inquiry.email,
            phone=inquiry.phone,
            country=dealer.country,
            source=ClientSource.website,
            marketing_consent=False,
        )
        session.add(client)
    if inquiry.client_id is None and inquiry.client is None:
        inquiry.client = client
    return client


def existing_client(session: Session, dealer: Dealer, email: str | None) -> Client | None:
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
