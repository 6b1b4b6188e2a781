"""Client rules: possible duplicates (same email or phone within a dealer) are flagged;
an objection to direct marketing keeps marketing consent off."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain import DomainError


def flag_possible_duplicates(session: Session, client: Any) -> None:
    from app.models.clients import Client

    keys = []
    if client.email:
        keys.append(Client.email == client.email)
    if client.phone:
        keys.append(Client.phone == client.phone)
    if not keys:
        client.possible_duplicate = False
        return
    others = session.scalars(
        select(Client.id).where(Client.dealer_id == client.dealer_id, Client.id != (client.id or -1), or_(*keys))
    ).all()
    client.possible_duplicate = bool(others)
    if others:
        session.execute(update(Client).where(Client.id.in_(others)).values(possible_duplicate=True))


def check_marketing_consent(client: Any) -> None:
    """An objection to direct marketing stops it with no exceptions (GDPR Art. 21(3)):
    consent stays off until the objection itself is cleared (``withdraw_objection``)."""
    if client.marketing_consent and client.marketing_objected_at is not None:
        raise DomainError(
            _l(
                "This client objected to direct marketing, so marketing consent cannot be turned on. "
                "The privacy officer must record that the objection was withdrawn first."
            ),
            "marketing_consent",
        )


def withdraw_objection(client: Any) -> None:
    """The person withdrew their objection (the explicit step before consent may return)."""
    client.marketing_objected_at = None
