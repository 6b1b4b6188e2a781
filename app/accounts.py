"""Creating users with a role and a dealer (used by the CLI and the demo)."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.models import Dealer
from app.security import DEALER_ROLES


class AccountError(ValueError):
    pass


def create_user(
    username: str,
    password: str,
    email: str,
    role: str,
    dealer_slug: str | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
):
    sm = current_app.appbuilder.sm
    role_obj = sm.find_role(role)
    if role_obj is None:
        raise AccountError(f"no role {role!r}; run `flask --app run forecourt init` first")
    dealer = None
    if dealer_slug:
        dealer = db.session.query(Dealer).filter_by(slug=dealer_slug).one_or_none()
        if dealer is None:
            raise AccountError(f"no dealer with slug {dealer_slug!r}")
    if role in DEALER_ROLES and dealer is None:
        raise AccountError(f"role {role} needs --dealer")
    if role not in DEALER_ROLES and dealer is not None:
        raise AccountError(f"role {role} is for internal staff: leave out --dealer")
    if sm.find_user(username=username) or sm.find_user(email=email):
        raise AccountError("a user with this username or email exists")
    if len(password) < 10:
        raise AccountError("a password has at least 10 characters")
    user = sm.add_user(
        username=username,
        first_name=first_name or username,
        last_name=last_name or "-",
        email=email,
        role=role_obj,
        password=password,
        commit=False,
    )
    if not user:
        db.session.rollback()
        raise AccountError("could not create the user")
    user.dealer = dealer
    user.preferred_language = language
    db.session.commit()
    return user
