"""Bulk edits of a list's selection: the rules, the preview and the change, in one place.

``run_bulk`` makes the change on the loaded rows in memory (nothing is flushed) and
returns what changed, row by row; the caller commits it (apply) or rolls it back (preview),
so the preview shows exactly what applying does. Rows come from ``load_selection``, which
takes the dealer and the restriction into account: an id the caller may not see makes the
whole request ``NotVisible`` and nothing changes.

Cars: set status, publish, unpublish, change the asking price by an amount or a percentage
(the price history is written at flush time by ``app.models.rules.record_car_history``; no
price may go below zero, or nothing changes), archive. Inquiries: set status, assign to a
user of the same dealer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.enum_labels import enum_label
from app.domain.formatting import format_money
from app.domain.money import to_minor
from app.models.inquiries import Inquiry, InquiryStatus
from app.models.inventory import Car, CarStatus
from app.models.rules import archive_cars, set_published
from app.models.users import DealerUser

MAX_ROWS = 1000
CAR_CHANGES = ("status", "publish", "unpublish", "price_amount", "price_percent", "archive")
INQUIRY_CHANGES = ("status", "assign")
# Status a bulk edit may set: "sold" comes from a recorded sale, "archived" from archiving.
CAR_STATUSES = (CarStatus.acquired, CarStatus.in_preparation, CarStatus.available, CarStatus.reserved)
PERCENT_RANGE = (Decimal(-100), Decimal(1000))

MODELS: dict[str, Any] = {"car": Car, "inquiry": Inquiry}
CHANGES = {"car": CAR_CHANGES, "inquiry": INQUIRY_CHANGES}
CHANGE_LABELS = {
    "status": lazy_gettext("Set status"),
    "publish": lazy_gettext("Publish on the listing"),
    "unpublish": lazy_gettext("Take off the listing"),
    "price_amount": lazy_gettext("Change the price by an amount"),
    "price_percent": lazy_gettext("Change the price by a percentage"),
    "archive": lazy_gettext("Archive"),
    "assign": lazy_gettext("Assign to a user"),
}


class NotVisible(LookupError):
    """An id of the selection is not a row the user may change (another dealer's, gone,
    restricted): the request changes nothing, and says no more than "not found"."""


@dataclass(frozen=True)
class Change:
    """A checked change: its kind and its value (a status, a Decimal, a user id)."""

    kind: str
    value: Any = None


@dataclass(frozen=True)
class RowChange:
    id: int
    label: str
    field: str
    before: str
    after: str


@dataclass
class Outcome:
    """What a bulk edit changes: the rows that change (with before and after), how many are
    left as they are, and the rows a rule keeps from changing (with the reason)."""

    changed: list[RowChange] = field(default_factory=list)
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "rows": [row.__dict__ for row in self.changed],
            "refused": [{"row": label, "reason": reason} for label, reason in self.refused],
        }


def parse_ids(raw: Iterable[Any]) -> list[int]:
    """The selected ids as integers; a person's bad input is a ``DomainError``."""
    ids: list[int] = []
    for value in raw:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise DomainError(gettext("The selection is not a list of record ids."), "ids") from None
        if not 0 < number < 2**63 or number in ids:
            if number in ids:
                continue
            raise DomainError(gettext("The selection is not a list of record ids."), "ids")
        ids.append(number)
    if not ids:
        raise DomainError(gettext("Select at least one row."), "ids")
    if len(ids) > MAX_ROWS:
        raise DomainError(gettext("Select at most %(num)d rows at a time.", num=MAX_ROWS), "ids")
    return ids


def parse_change(kind_of_rows: str, kind: Any, value: Any) -> Change:
    """A change a person asked for, checked; ``DomainError`` with a translated message."""
    kind = str(kind or "").strip()
    if kind not in CHANGES[kind_of_rows]:
        raise DomainError(gettext("Choose one of the bulk changes offered."), "change")
    if kind == "status":
        statuses = CAR_STATUSES if kind_of_rows == "car" else tuple(InquiryStatus)
        chosen = next((s for s in statuses if s.value == str(value or "").strip()), None)
        if chosen is None:
            raise DomainError(gettext("Choose one of the statuses offered."), "value")
        return Change(kind, chosen)
    if kind in ("price_amount", "price_percent"):
        number = _decimal(value)
        if number is None or number == 0:
            raise DomainError(gettext("Enter the change as a number other than zero, e.g. -500 or -5."), "value")
        if kind == "price_percent" and not PERCENT_RANGE[0] <= number <= PERCENT_RANGE[1]:
            raise DomainError(gettext("Enter a percentage from -100 to 1000."), "value")
        return Change(kind, number)
    if kind == "assign":
        try:
            return Change(kind, int(str(value).strip()))
        except ValueError:
            raise DomainError(gettext("Choose a user of your dealership."), "value") from None
    return Change(kind)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal | int):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def load_selection(session: Session, kind_of_rows: str, ids: list[int], dealer_id: int | None) -> list[Any]:
    """The selected rows the caller may change (``dealer_id`` None: internal staff, any
    dealer); restricted rows are never among them. ``NotVisible`` if any id is missing."""
    model = MODELS[kind_of_rows]
    query = select(model).where(model.id.in_(ids), model.restricted_at.is_(None)).order_by(model.id)
    if dealer_id is not None:
        query = query.where(model.dealer_id == dealer_id)
    rows = list(session.scalars(query))
    if len(rows) != len(set(ids)):
        raise NotVisible(kind_of_rows)
    return rows


def run_bulk(session: Session, kind_of_rows: str, rows: list[Any], change: Change) -> Outcome:
    """Make ``change`` on ``rows`` in memory and say what changed. The caller commits (one
    transaction) or rolls back (a preview). ``DomainError`` when the change as a whole
    breaks a rule (a price below zero, a user of another dealer)."""
    with session.no_autoflush:
        if kind_of_rows == "car":
            return _run_on_cars(session, rows, change)
        return _run_on_inquiries(session, rows, change)


def _run_on_cars(session: Session, cars: list[Any], change: Change) -> Outcome:
    before = {car.id: (car.status, car.published, car.asking_price_minor) for car in cars}
    refused: list[tuple[str, str]] = []
    if change.kind in ("publish", "unpublish"):
        _, not_published = set_published(cars, change.kind == "publish")
        refused = [(label, gettext("Sold or archived cars are not published.")) for label in not_published]
    elif change.kind == "archive":
        _, kept = archive_cars(cars)
        refused = [(label, gettext("A car with a draft sale is not archived (finish or void the sale first).")) for label in kept]
    elif change.kind == "status":
        for car in cars:
            if car.status == CarStatus.sold:
                refused.append((car.stock_number, gettext("A sold car keeps its status.")))
            else:
                car.status = change.value
    else:
        refused = _reprice(cars, change)
    outcome = Outcome(refused=refused)
    for car in cars:
        status, published, price = before[car.id]
        rows = [
            ("status", enum_label(status), enum_label(car.status), status != car.status),
            ("published", _yes_no(published), _yes_no(car.published), published != car.published),
            (
                "asking_price",
                format_money(price, car.currency),
                format_money(car.asking_price_minor, car.currency),
                price != car.asking_price_minor,
            ),
        ]
        changed = [RowChange(car.id, str(car), name, old, new) for name, old, new, differs in rows if differs]
        outcome.changed.extend(changed)
        outcome.unchanged += 0 if changed else 1
    return outcome


def _reprice(cars: list[Any], change: Change) -> list[tuple[str, str]]:
    refused: list[tuple[str, str]] = []
    below_zero: list[str] = []
    new_prices: dict[int, int] = {}
    for car in cars:
        if car.asking_price_minor is None:
            refused.append((car.stock_number, gettext("The car has no asking price.")))
            continue
        if change.kind == "price_amount":
            step = to_minor(abs(change.value), car.currency) or 0
            new = car.asking_price_minor + (step if change.value > 0 else -step)
        else:
            factor = (Decimal(100) + change.value) / Decimal(100)
            new = int((Decimal(car.asking_price_minor) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if new < 0:
            below_zero.append(car.stock_number)
        new_prices[car.id] = new
    if below_zero:
        raise DomainError(gettext("The price would go below zero for %(cars)s: nothing was changed.", cars=", ".join(below_zero)), "value")
    for car in cars:
        if car.id in new_prices:
            car.asking_price_minor = new_prices[car.id]
    return refused


def _run_on_inquiries(session: Session, inquiries: list[Any], change: Change) -> Outcome:
    outcome = Outcome()
    user = None
    if change.kind == "assign":
        user = session.get(DealerUser, change.value)
        dealers = {inquiry.dealer_id for inquiry in inquiries}
        if user is None or not user.active or user.dealer_id is None or dealers != {user.dealer_id}:
            raise DomainError(gettext("Choose a user of your dealership."), "value")
    for inquiry in inquiries:
        if change.kind == "status":
            old, new = enum_label(inquiry.status), enum_label(change.value)
            differs = inquiry.status != change.value
            inquiry.status = change.value
            name = "status"
        else:
            old = str(inquiry.assigned_user or "")
            new, differs, name = str(user), inquiry.assigned_user_id != change.value, "assigned_user"
            inquiry.assigned_user = user
        if differs:
            outcome.changed.append(RowChange(inquiry.id, str(inquiry), name, old, new))
        else:
            outcome.unchanged += 1
    return outcome


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")
