"""The one-click withdrawal link of marketing e-mails and its RFC 8058 headers.

The link is in every marketing e-mail's footer and in its ``List-Unsubscribe`` headers.
It does not expire (people open old offers); it names the dealer, a keyed hash of the
address (never the address itself) and the kind of e-mail it was in.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.contact import normalise_email
from app.models import Client, Dealer, MailMessage
from app.privacy.links import LinkError, public_url

UNSUBSCRIBE = "marketing-unsubscribe"
# Outbox kinds that are direct marketing: they carry the unsubscribe footer and headers.
DEFAULT_MARKETING_KIND = "marketing_offer"
MARKETING_KINDS = frozenset({DEFAULT_MARKETING_KIND})
ONE_CLICK = "List-Unsubscribe=One-Click"
_UNSUBSCRIBE_URL = re.compile(r"https?://[^\s<>\"']+/d/[a-z0-9-]+/unsubscribe/([A-Za-z0-9_.\-]+)")


def _email_key(email: str) -> str:
    """A keyed hash of the address: the link names the person without showing the address."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"unsubscribe\0" + email.encode(), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE)


def unsubscribe_token(dealer_id: int, email: str, kind: str = DEFAULT_MARKETING_KIND) -> str:
    return _serializer().dumps([dealer_id, _email_key(normalise_email(email) or ""), kind])


def read_unsubscribe_token(token: str) -> tuple[int, str, str]:
    """The dealer id, the address's keyed hash and the kind of e-mail the link was in;
    ``LinkError`` when forged."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise LinkError()
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[0], int) and all(isinstance(v, str) for v in data[1:])):
        raise LinkError()
    return data[0], data[1], data[2]


def unsubscribe_url(dealer_id: int, email: str, session: Session | None = None, kind: str = DEFAULT_MARKETING_KIND) -> str:
    """The absolute one-click withdrawal link for marketing e-mails to ``email``.

    It is bound to the dealer, the address and the kind of e-mail (the record's source is
    ``email:<kind>``) and works while ``SECRET_KEY`` stays the same.
    """
    if session is None:
        from app.extensions import db

        session = db.session
    dealer = session.get(Dealer, dealer_id)
    if dealer is None:
        raise LookupError(f"no dealer {dealer_id}")
    return public_url(f"/d/{dealer.slug}/unsubscribe/{unsubscribe_token(dealer_id, email, kind)}")


def clients_for_token(session: Session, dealer_id: int, email_key: str) -> list[Client]:
    """The dealer's clients whose address the link was made for."""
    clients = session.scalars(
        select(Client)
        .where(Client.dealer_id == dealer_id, Client.email.is_not(None), Client.is_erasure_placeholder.is_(False))
        .order_by(Client.id)
    ).all()
    return [c for c in clients if hmac.compare_digest(_email_key(c.email), email_key)]


def list_unsubscribe_headers(message: MailMessage) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers for a marketing message: the one-click link of its
    footer, when it is valid for the message's recipient."""
    if message.kind not in MARKETING_KINDS or not message.to_address:
        return {}
    match = _UNSUBSCRIBE_URL.search(message.body_text or "")  # type: ignore[arg-type]
    if match is None:
        return {}
    try:
        _dealer_id, email_key, _kind = read_unsubscribe_token(match.group(1))
    except LinkError:
        return {}
    if not hmac.compare_digest(email_key, _email_key(normalise_email(message.to_address) or "")):  # type: ignore[arg-type]
        return {}
    return {"List-Unsubscribe": f"<{match.group(0)}>", "List-Unsubscribe-Post": ONE_CLICK}
