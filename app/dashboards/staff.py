"""Internal staff's home: dealers by status, terminated dealers and their next deadline
(account data deleted on day 30, business records erased after three years), users per
dealer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from app.dashboards import Figure
from app.extensions import db
from app.models import Dealer, DealerStatus, DealerUser

ACCOUNT_DELETION = "account_deletion"
RECORDS_ERASURE = "records_erasure"
TOP_DEALERS = 10


@dataclass(frozen=True)
class PendingTermination:
    dealer_id: int
    business_name: str
    step: str  # ACCOUNT_DELETION or RECORDS_ERASURE
    due_at: datetime


@dataclass(frozen=True)
class DealerUsers:
    dealer_id: int
    business_name: str
    figure: Figure


@dataclass(frozen=True)
class StaffHome:
    dealers: list[Figure]
    pending_terminations: list[PendingTermination]
    pending_count: int
    users_per_dealer: list[DealerUsers]
    dealers_with_users: int
    internal_users: int


def dealers_by_status() -> list[Figure]:
    counts = dict(db.session.execute(select(Dealer.status, func.count()).group_by(Dealer.status)).all())
    return [Figure(status.value, counts.get(status, 0), "DealerModelView", {"_flt_0_status": status.name}) for status in DealerStatus]


def pending_terminations(limit: int = 5) -> tuple[int, list[PendingTermination]]:
    """Terminated dealers with a step still to come, the soonest first: the account data's
    deletion until it is done, then the business records' erasure."""
    step = case(
        (Dealer.account_deleted_at.is_(None), ACCOUNT_DELETION),
        (Dealer.records_erased_at.is_(None), RECORDS_ERASURE),
    )
    due = case(
        (Dealer.account_deleted_at.is_(None), Dealer.account_deletion_due_at),
        (Dealer.records_erased_at.is_(None), Dealer.records_erasure_due_at),
    )
    pending = (Dealer.status == DealerStatus.terminated, due.is_not(None))
    count = db.session.scalar(select(func.count()).select_from(Dealer).where(*pending))
    rows = db.session.execute(
        select(Dealer.id, Dealer.business_name, step, due.label("due")).where(*pending).order_by(due, Dealer.id).limit(limit)
    ).all()
    return count or 0, [PendingTermination(id, name, kind, _aware(when)) for id, name, kind, when in rows]


def _aware(value):
    from app.models import UTCDateTime

    return UTCDateTime().process_result_value(value, None) if isinstance(value, datetime) else value


def users_per_dealer(limit: int = TOP_DEALERS) -> tuple[list[DealerUsers], int, int]:
    """The dealers with the most user accounts (every account the user list shows), how
    many dealers have any, and the internal accounts (no dealer)."""
    counted = (
        select(DealerUser.dealer_id, Dealer.business_name, func.count().label("users"))
        .join(Dealer, Dealer.id == DealerUser.dealer_id)
        .group_by(DealerUser.dealer_id, Dealer.business_name)
        .order_by(func.count().desc(), Dealer.business_name)
        .limit(limit)
    )
    top = [
        DealerUsers(dealer_id, name, Figure(str(dealer_id), users, "ForecourtUserDBModelView", {"_flt_0_dealer": str(dealer_id)}))
        for dealer_id, name, users in db.session.execute(counted)
    ]
    with_users = db.session.scalar(select(func.count(func.distinct(DealerUser.dealer_id))).where(DealerUser.dealer_id.is_not(None)))
    internal = db.session.scalar(select(func.count()).select_from(DealerUser).where(DealerUser.dealer_id.is_(None)))
    return top, with_users or 0, internal or 0


def staff_home() -> StaffHome:
    count, pending = pending_terminations()
    top, with_users, internal = users_per_dealer()
    return StaffHome(dealers_by_status(), pending, count, top, with_users, internal)
