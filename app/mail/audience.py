"""Who receives the service's own notices: users who can still sign in, a dealer's users
and admins, and in which language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.grants import DEALER_ADMIN
from app.i18n.languages import user_language  # noqa: F401  (one rule for a user's language)
from app.models.users import DealerUser


def active_users(session: Session, dealer_id: int | None = None, role: str | None = None) -> list[DealerUser]:
    """Active users with an address, not deactivated or anonymised; optionally of one
    dealer and holding one role."""
    query = select(DealerUser).where(
        DealerUser.active.is_(True),
        DealerUser.deactivated_at.is_(None),
        DealerUser.anonymised_at.is_(None),
        DealerUser.email.is_not(None),
        DealerUser.email != "",
    )
    if dealer_id is not None:
        query = query.where(DealerUser.dealer_id == dealer_id)
    if role is not None:
        from flask_appbuilder.security.sqla.models import Role

        query = query.where(DealerUser.roles.any(Role.name == role))
    return list(session.scalars(query.order_by(DealerUser.id)))


def is_dealer_admin(user: DealerUser) -> bool:
    return any(role.name == DEALER_ADMIN for role in user.roles or [])


def users_of(session: Session, dealer_id: int) -> list[DealerUser]:
    return list(session.scalars(select(DealerUser).where(DealerUser.dealer_id == dealer_id).order_by(DealerUser.id)))
