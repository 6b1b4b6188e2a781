"""The flush-time rule of the consent ledger: every change of ``Client.marketing_consent``
(and every new objection) that no explicit record covers gets one.

Code that changes consent for a person records it itself (``ledger.set_marketing``); every
other change (staff in the UI or the API, scripts) is recorded here, as method ``staff``
by the acting user.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import History

from app.models import Client, ConsentAction, ConsentMethod, ConsentPurpose, ConsentRecord
from app.models.base import utcnow
from app.privacy.consent.ledger import client_dealer, policy_version_in_force, record

STAFF_SOURCE = "staff"
OBJECTION_SOURCE = "objection"


def record_marketing_changes(session: Session) -> None:
    """``before_flush``: a ledger row for every change of ``Client.marketing_consent``
    (and every new objection) that no explicit record covers; keeps
    ``marketing_consent_at`` in step. Staff changes name the acting user
    (``session.info["acting_user_id"]``) and the page (``session.info["consent_source"]``)."""
    explicit = _explicitly_recorded(session)
    now = utcnow()
    policy_version_id: int | None = None
    looked_up = False
    for client in list(session.new) + list(session.dirty):
        if not isinstance(client, Client) or client.is_erasure_placeholder:
            continue
        changed = _consent_changed(session, client)
        objected = _newly_objected(session, client)
        if not changed and not objected:
            continue
        if changed:
            client.marketing_consent_at = now if client.marketing_consent else None  # type: ignore[assignment]
        if _is_explicit(client, explicit):
            continue
        if objected and not client.marketing_consent:
            method, source, by = ConsentMethod.objection, OBJECTION_SOURCE, None
        else:
            method = ConsentMethod.staff
            source = session.info.get("consent_source") or STAFF_SOURCE
            by = session.info.get("acting_user_id")
        if not looked_up:
            policy_version_id, looked_up = policy_version_in_force(session, now), True
        record(
            session,
            dealer=client_dealer(session, client),
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
    objects: set[int] = set()
    ids: set[int] = set()
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
    history: History = inspect(client).attrs.marketing_consent.history
    if not history.added:
        return False
    old: Any
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
    history: History = inspect(client).attrs.marketing_objected_at.history
    return bool(history.added) and not any(history.deleted)
