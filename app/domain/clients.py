"""Client rules: possible duplicates (same email or phone within a dealer) are flagged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session


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
