"""Rules of the sales flow on plain values: how pickers name a client, a car and a user
so that two "Anna Fischer"s differ, which contact keys match an inquiry to a client, and
how a person's name splits into first and last name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SEPARATOR = " · "

# Car statuses (their stored values) that can no longer be sold.
UNSELLABLE_STATUSES = frozenset({"sold", "archived"})


def _parts(values: Iterable[Any]) -> str:
    return SEPARATOR.join(str(v).strip() for v in values if v is not None and str(v).strip())


def client_label(full_name: str | None, email: str | None, city: str | None) -> str:
    """``Anna Fischer · anna@example.org · Berlin`` (missing parts left out)."""
    return _parts((full_name, email, city))


def car_label(stock_number: str | None, make: str | None, model: str | None, year: int | None) -> str:
    """``N0100 · Volkswagen Passat 2020``."""
    vehicle = " ".join(str(v) for v in (make, model, year) if v not in (None, ""))
    return _parts((stock_number, vehicle))


def user_label(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """``Lena Berg · lena`` — the user name tells two people of the same name apart."""
    name = " ".join(v for v in (first_name, last_name) if v)
    return _parts((name, username)) if name != username else _parts((name,))


def is_sellable(status: str | None, has_live_sale: bool) -> bool:
    """A car can get a new sale unless it is sold, archived or has a live (draft or sold) sale."""
    return status not in UNSELLABLE_STATUSES and not has_live_sale


def split_name(name: str | None) -> tuple[str, str]:
    """A typed name as (first, last): the last word is the last name; one word is both
    the first name and, for want of another, an empty last name."""
    words = (name or "").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[:-1]), words[-1]


def contact_keys(email: str | None, phone: str | None) -> dict[str, str]:
    """The normalised keys an inquiry's client is matched by (only those given)."""
    return {key: value for key, value in (("email", email), ("phone", phone)) if value}
