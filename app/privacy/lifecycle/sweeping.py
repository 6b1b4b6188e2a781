"""What the retention sweeps are built from: counts as rows per table per action, units
run one transaction each, deletions batch by batch, and where each sweep's share ends.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.privacy.requests.erasure_rows import delete_rows

log = logging.getLogger(__name__)

# Rows per table per action, e.g. ``{"inquiry": {"deleted": 12, "kept_restricted": 1}}``.
Counts = dict[str, dict[str, int]]
FAILED = "failed"  # the action counted for a unit (dealer, user, request) that raised


class Tally:
    """Rows per table per action; zero counts are left out."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {}

    def add(self, table: str, action: str, count: int = 1) -> None:
        if count:
            self._counts.setdefault(table, Counter())[action] += count

    def merge(self, counts: Counts | None) -> None:
        for table, actions in (counts or {}).items():
            for action, count in actions.items():
                self.add(table, action, int(count))

    def as_dict(self) -> Counts:
        return {table: dict(sorted(actions.items())) for table, actions in sorted(self._counts.items())}


def usage_log_cutoff(as_of: datetime) -> datetime:
    """Page views before this are the ``usage_log`` sweep's; the account steps take the rest."""
    return as_of - timedelta(days=int(current_app.config["USAGE_LOG_RETENTION_DAYS"]))


def mail_cutoff(as_of: datetime) -> datetime:
    """Mail sent before this is the ``mail_outbox`` sweep's; the account steps take the rest."""
    return as_of - timedelta(days=int(current_app.config["MAIL_RETENTION_DAYS"]))


def each_unit(session: Session, ids: Iterable[int], dry_run: bool, tally: Tally, table: str, work: Callable[[int], Counts | None]) -> None:
    """Run ``work`` per id in its own transaction: kept (real run) or forgotten (dry
    run). One that raises is rolled back, logged and counted as ``failed``; the others
    still go ahead."""
    for unit_id in list(ids):
        try:
            tally.merge(work(unit_id))
        except Exception:
            session.rollback()
            log.exception("retention: %s %s failed", table, unit_id)
            tally.add(table, FAILED)
            continue
        if dry_run:
            session.rollback()
        else:
            session.commit()


def _batch_size() -> int:
    return max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))


def count(session: Session, model: Any, where: tuple) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def delete_where(session: Session, model: Any, where: tuple, dry_run: bool) -> int:
    """Delete the rows matching ``where`` batch by batch, one commit each (the foreign
    keys' ON DELETE applied as on PostgreSQL); a dry run counts them."""
    if dry_run:
        return count(session, model, where)
    (pk,) = model.__table__.primary_key.columns
    size, total = _batch_size(), 0
    while True:
        ids = list(session.scalars(select(pk).where(*where).order_by(pk).limit(size)))
        if not ids:
            return total
        delete_ids(session, model, ids)
        total += len(ids)


def delete_ids(session: Session, model: Any, ids: list[int]) -> None:
    """Delete these rows of ``model``, one commit per batch."""
    size = _batch_size()
    for start in range(0, len(ids), size):
        delete_rows(session, model, ids[start : start + size])
        session.commit()
