"""The consent ledger (GDPR Art. 7): every acknowledgement of the privacy notice and every
marketing consent given or withdrawn leaves an append-only ``ConsentRecord``.

Records name the purpose, the action, the policy version in force, the method, the source
(the page's path, ``email:<message kind>`` or ``privacy_request:<reference>``) and the
time. A visitor's IP address is kept only when the dealer records visitors' IPs
(``Dealer.record_visitor_ip``); otherwise it is dropped here, the one place that decides.

Code that changes ``Client.marketing_consent`` for a person (the public form, the
withdrawal links, an objection) records it explicitly; every other change (staff in the
UI or the API, scripts) is recorded by the flush-time rule ``record_marketing_changes``
as method ``staff`` by the acting user. Withdrawing takes one click: a signed link in
every marketing e-mail (``unsubscribe_url``, also sent as RFC 8058 ``List-Unsubscribe``
headers) or the dealer's public withdrawal page.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.domain.contact import normalise_email
from app.models import (
    Client,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    Inquiry,
    MailMessage,
)
from app.models.base import utcnow
from app.privacy.requests.links import LinkError, public_url
from app.privacy.transparency.policy import current_version

UNSUBSCRIBE = "marketing-unsubscribe"
STAFF_SOURCE = "staff"
OBJECTION_SOURCE = "objection"
# Outbox kinds that are direct marketing: they carry the unsubscribe footer and headers.
DEFAULT_MARKETING_KIND = "marketing_offer"
MARKETING_KINDS = frozenset({DEFAULT_MARKETING_KIND})
ONE_CLICK = "List-Unsubscribe=One-Click"
_IN_FORCE = object()
_UNSUBSCRIBE_URL = re.compile(r"https?://[^\s<>\"']+/d/[a-z0-9-]+/unsubscribe/([A-Za-z0-9_.\-]+)")


# -- recording ------------------------------------------------------------------------


def visitor_ip(dealer: Dealer, ip_address: str | None) -> str | None:
    """The IP address to store for a visitor of ``dealer``'s pages: None unless the
    dealer records visitors' IPs (privacy by default, GDPR Art. 25)."""
    if not ip_address or not dealer.record_visitor_ip:
        return None
    return ip_address[:45]


def policy_version_in_force(session: Session, now: datetime | None = None) -> int | None:
    policy = current_version(session, now)
    return policy.id if policy is not None else None


def record(
    session: Session,
    *,
    dealer: Dealer,
    purpose: ConsentPurpose,
    action: ConsentAction,
    method: ConsentMethod,
    source: str,
    client: Client | None = None,
    inquiry: Inquiry | None = None,
    email: str | None = None,
    ip_address: str | None = None,
    recorded_by_id: int | None = None,
    now: datetime | None = None,
    policy_version_id: int | None | object = _IN_FORCE,
) -> ConsentRecord:
    """Add one ledger row, under the policy version in force at ``now``.

    ``ip_address`` is the visitor's raw address: it is kept only when the dealer records
    IPs. The caller commits.
    """
    now = now or utcnow()
    with session.no_autoflush:
        if policy_version_id is _IN_FORCE:
            policy_version_id = policy_version_in_force(session, now)
        entry = ConsentRecord(
            dealer_id=dealer.id,
            client=client,
            inquiry=inquiry,
            email=email or (client.email if client is not None else None),
            purpose=purpose,
            action=action,
            policy_version_id=policy_version_id,
            method=method,
            source=source[:300],
            recorded_at=now,
            ip_address=visitor_ip(dealer, ip_address),
            recorded_by_id=recorded_by_id,
        )
        session.add(entry)
    return entry


def set_marketing(
    session: Session,
    client: Client,
    given: bool,
    *,
    method: ConsentMethod,
    source: str,
    inquiry: Inquiry | None = None,
    ip_address: str | None = None,
    recorded_by_id: int | None = None,
    now: datetime | None = None,
) -> ConsentRecord:
    """Give or withdraw ``client``'s marketing consent with its record.

    The record is added before the change, without an autoflush in between, so the
    flush-time rule sees it and adds no second one. Giving consent after an objection
    is refused by ``check_marketing_consent`` at flush time.
    """
    with session.no_autoflush:
        entry = record(
            session,
            dealer=client.dealer or session.get(Dealer, client.dealer_id),
            purpose=ConsentPurpose.marketing,
            action=ConsentAction.given if given else ConsentAction.withdrawn,
            method=method,
            source=source,
            client=client,
            inquiry=inquiry,
            ip_address=ip_address,
            recorded_by_id=recorded_by_id,
            now=now,
        )
        client.marketing_consent = given
    return entry


def has_objected(session: Session, dealer_id: int, email: str | None) -> bool:
    """Did a client of this dealer with this address object to direct marketing?"""
    if not email:
        return False
    found = session.scalar(
        select(Client.id).where(
            Client.dealer_id == dealer_id, Client.email == email, Client.marketing_objected_at.is_not(None)
        ).limit(1)
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


# -- the flush-time rule ------------------------------------------------------------------


def record_marketing_changes(session: Session) -> None:
    """``before_flush``: a ledger row for every change of ``Client.marketing_consent``
    (and every new objection) that no explicit record covers; keeps
    ``marketing_consent_at`` in step. Staff changes name the acting user
    (``session.info["acting_user_id"]``) and the page (``session.info["consent_source"]``)."""
    explicit = _explicitly_recorded(session)
    now = utcnow()
    policy_version_id: int | None | object = _IN_FORCE
    for client in list(session.new) + list(session.dirty):
        if not isinstance(client, Client) or client.is_erasure_placeholder:
            continue
        changed = _consent_changed(session, client)
        objected = _newly_objected(session, client)
        if not changed and not objected:
            continue
        if changed:
            client.marketing_consent_at = now if client.marketing_consent else None
        if _is_explicit(client, explicit):
            continue
        if objected and not client.marketing_consent:
            method, source, by = ConsentMethod.objection, OBJECTION_SOURCE, None
        else:
            method = ConsentMethod.staff
            source = session.info.get("consent_source") or STAFF_SOURCE
            by = session.info.get("acting_user_id")
        if policy_version_id is _IN_FORCE:
            policy_version_id = policy_version_in_force(session, now)
        record(
            session,
            dealer=client.dealer or session.get(Dealer, client.dealer_id),
            purpose=ConsentPurpose.marketing,
            action=ConsentAction.given if client.marketing_consent else ConsentAction.withdrawn,
            method=method,
            source=source,
            client=client,
            recorded_by_id=by,
            now=now,
            policy_version_id=policy_version_id,
        )


def _explicitly_recorded(session: Session) -> tuple[set[int], set[int]]:
    """Clients (by object identity and by id) with a new marketing record in this flush."""
    objects, ids = set(), set()
    for obj in session.new:
        if isinstance(obj, ConsentRecord) and obj.purpose is ConsentPurpose.marketing:
            client = obj.__dict__.get("client")
            if client is not None:
                objects.add(id(client))
            elif obj.client_id is not None:
                ids.add(obj.client_id)
    return objects, ids


def _is_explicit(client: Client, explicit: tuple[set[int], set[int]]) -> bool:
    objects, ids = explicit
    return id(client) in objects or (client.id is not None and client.id in ids)


def _consent_changed(session: Session, client: Client) -> bool:
    if client in session.new:
        return bool(client.marketing_consent)
    history = inspect(client).attrs.marketing_consent.history
    if not history.added:
        return False
    if history.deleted:
        old = history.deleted[0]
    else:  # set while expired: the old value was never loaded
        with session.no_autoflush:
            old = session.scalar(select(Client.marketing_consent).where(Client.id == client.id))
    return bool(old) != bool(client.marketing_consent)


def _newly_objected(session: Session, client: Client) -> bool:
    if client.marketing_objected_at is None:
        return False
    if client in session.new:
        return True
    history = inspect(client).attrs.marketing_objected_at.history
    return bool(history.added) and not any(history.deleted)


# -- withdrawal -----------------------------------------------------------------------------


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
    email = normalise_email(email)
    if not email:
        return 0
    clients = session.scalars(
        select(Client)
        .where(Client.dealer_id == dealer.id, Client.email == email, Client.is_erasure_placeholder.is_(False))
        .order_by(Client.id)
    ).all()
    return withdraw(session, dealer, clients, method=method, source=source, ip_address=ip_address, now=now)


# -- the one-click link ---------------------------------------------------------------------


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

    It does not expire (people open old offers); it is bound to the dealer, the address
    and the kind of e-mail (the record's source is ``email:<kind>``) and works while
    ``SECRET_KEY`` stays the same. The address itself is not in the link, only a keyed hash.
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


# -- marketing e-mail ---------------------------------------------------------------------


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
    email = normalise_email(email)
    return queue_notice(
        session,
        kind,
        to=email,
        language=language,
        mail_language=language,
        dealer=dealer,
        unsubscribe_url=unsubscribe_url(dealer_id, email, session, kind=kind),
        marketing_page_url=public_url(f"/d/{dealer.slug}/marketing"),
        **context,
    )


def list_unsubscribe_headers(message: MailMessage) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers for a marketing message: the one-click link of its
    footer, when it is valid for the message's recipient."""
    if message.kind not in MARKETING_KINDS or not message.to_address:
        return {}
    match = _UNSUBSCRIBE_URL.search(message.body_text or "")
    if match is None:
        return {}
    try:
        _dealer_id, email_key, _kind = read_unsubscribe_token(match.group(1))
    except LinkError:
        return {}
    if not hmac.compare_digest(email_key, _email_key(normalise_email(message.to_address) or "")):
        return {}
    return {"List-Unsubscribe": f"<{match.group(0)}>", "List-Unsubscribe-Post": ONE_CLICK}
