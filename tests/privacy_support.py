"""Helpers shared by the privacy tests: users by name, reloading requests, the real queue."""

from __future__ import annotations

from sqlalchemy import select

from app.models import PrivacyRequest
from app.models.users import DealerUser


def user_id(db, username: str) -> int:
    return db.session.scalar(select(DealerUser.id).where(DealerUser.username == username))


def reload(db, pk: int) -> PrivacyRequest:
    db.session.expire_all()
    return db.session.get(PrivacyRequest, pk)


def run_worker(app) -> None:
    """Run the queued jobs the way a worker does: its own app context, its own session."""
    from rq import SimpleWorker

    from app.extensions import get_queue, redis_connection

    with app.app_context():
        SimpleWorker([get_queue()], connection=redis_connection()).work(burst=True)
