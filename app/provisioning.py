"""Creating users with a role and a dealer, and dealers (used by the CLI and the demo)."""

from __future__ import annotations

from flask import current_app

from app.domain import DomainError
from app.domain.grants import SYSTEM, Account, check_user
from app.domain.passwords import check_password
from app.extensions import db
from app.models import Dealer
from app.models.users import DealerUser


class AccountError(ValueError):
    pass


def has_users() -> bool:
    """Does the installation have any user yet (a fresh database has none)?"""
    return db.session.query(DealerUser.id).first() is not None


def create_user(
    username: str,
    password: str,
    email: str,
    role: str,
    dealer_slug: str | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
    *,
    check_policy: bool = True,
    editor: Account = SYSTEM,
):
    """Create a user under the grant rule and the password policy (``check_policy=False``
    only for the demo data set, whose public password the policy refuses)."""
    sm = current_app.appbuilder.sm
    role_obj = sm.find_role(role)
    if role_obj is None:
        raise AccountError(f"no role {role!r}; run `flask --app run forecourt init` first")
    dealer = None
    if dealer_slug:
        dealer = db.session.query(Dealer).filter_by(slug=dealer_slug).one_or_none()
        if dealer is None:
            raise AccountError(f"no dealer with slug {dealer_slug!r}")
    try:
        check_user(editor, None, Account.of(None, {role}, dealer.id if dealer else None))
        if check_policy:
            check_password(password, [username, email, first_name, last_name])
    except DomainError as exc:
        raise AccountError(str(exc.message)) from None
    if sm.find_user(username=username) or sm.find_user(email=email):
        raise AccountError("a user with this username or email exists")
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


# Option names of `forecourt create-dealer` for the model's fields, for its error messages.
_DEALER_OPTIONS = {"business_name": "--name", "default_currency": "--currency"}


def create_dealer(
    slug: str,
    business_name: str,
    *,
    country: str | None = "DE",
    city: str | None = None,
    email: str | None = None,
    timezone: str | None = "Europe/Berlin",
    currency: str | None = "EUR",
) -> Dealer:
    """Create an active dealer under the rules of the dealer form: the model's validators
    (slug, single-line names, country, e-mail, time zone, currency), a business name and a
    country, and a slug no other dealer has."""
    values = {
        "slug": slug,
        "business_name": (business_name or "").strip(),
        "country": country,
        "city": (city or "").strip() or None,
        "email": email,
        "timezone": timezone,
        "default_currency": currency,
    }
    dealer = Dealer()
    try:
        for field, value in values.items():
            setattr(dealer, field, value)  # the @validates rules run here
    except DomainError as exc:
        option = _DEALER_OPTIONS.get(exc.field or field, "--" + (exc.field or field).replace("_", "-"))
        raise AccountError(f"{option}: {exc.message}") from None
    for field in values:
        limit = getattr(Dealer.__table__.c[field].type, "length", None)
        value = getattr(dealer, field)
        if limit and value and len(value) > limit:  # the form's Length rule; PostgreSQL refuses it
            option = _DEALER_OPTIONS.get(field, "--" + field.replace("_", "-"))
            raise AccountError(f"{option}: at most {limit} characters")
    if not dealer.business_name:
        raise AccountError("--name: the business name is required")
    if not dealer.country:
        raise AccountError("--country: a two-letter ISO 3166 country code is required, e.g. DE")
    if db.session.query(Dealer.id).filter_by(slug=dealer.slug).first() is not None:
        raise AccountError(f"--slug: a dealer with the slug {dealer.slug!r} exists")
    db.session.add(dealer)
    try:
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise AccountError(str(exc.message)) from None
    return dealer
