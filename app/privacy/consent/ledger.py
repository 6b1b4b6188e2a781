"""The consent ledger (GDPR Art. 7): every acknowledgement of the privacy notice and every
marketing consent given or withdrawn leaves an append-only ``ConsentRecord``.

Records name the purpose, the action, the policy version in force, the method, the source
(the page's path, ``email:<message kind>`` or ``privacy_request:<reference>``) and the
time. A visitor's IP address is kept only when the dealer records visitors' IPs
(``Dealer.record_visitor_ip``); otherwise it is dropped here, the one place that decides.

Code that changes ``Client.marketing_consent`` for a person (the public form, the
withdrawal links, an objection) records it explicitly with ``set_marketing``; every other
change is recorded at flush time (``app.privacy.consent.marketing_changes``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final, Literal

from sqlalchemy.orm import Session

from app.models import (
    Client,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    Inquiry,
)
from app.models.base import utcnow
from app.privacy.transparency.policy_versions import current_version


class _InForce(enum.Enum):
    """The default of ``record``'s ``policy_version_id``: the version in force at ``now``."""

    token = enum.auto()


_IN_FORCE: Final = _InForce.token


def visitor_ip(dealer: Dealer, ip_address: str | None) -> str | None:
    """The IP address to store for a visitor of ``dealer``'s pages: None unless the
    dealer records visitors' IPs (privacy by default, GDPR Art. 25)."""
    if not ip_address or not dealer.record_visitor_ip:
        return None
    return ip_address[:45]


def policy_version_in_force(session: Session, now: datetime | None = None) -> int | None:
    policy = current_version(session, now)
    return policy.id if policy is not None else None  # type: ignore[return-value]


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
    policy_version_id: int | None | Literal[_InForce.token] = _IN_FORCE,
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


def client_dealer(session: Session, client: Client) -> Dealer:
    """The client's dealer, loaded when the relationship is not set yet (a new client)."""
    dealer = client.dealer or session.get(Dealer, client.dealer_id)
    if dealer is None:
        raise LookupError(f"no dealer {client.dealer_id}")
    return dealer


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
            dealer=client_dealer(session, client),
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
        client.marketing_consent = given  # type: ignore[assignment]
    return entry
