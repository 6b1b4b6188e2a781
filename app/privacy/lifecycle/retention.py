"""Retention sweeps: what the privacy policy promises to delete, deleted on schedule.

``SWEEPS`` is the table: each sweep has a name, a schedule (daily or hourly), a title for
staff and one function ``(session, as_of, dry_run) -> counts`` (in ``sweeps``) that finds
what is due at ``as_of`` and either applies it or only counts it. Counts are rows per table
per action, e.g. ``{"inquiry": {"deleted": 12, "kept_restricted": 1}}``; ``kept_*`` entries
are rows looked at and deliberately left alone, everything else is a change. A dry run
returns exactly the counts the real run at the same ``as_of`` then applies, and writes
nothing.

A real run commits per batch or per unit (a dealer, a user, a request), so a crash
leaves a consistent state, and is idempotent: a second run at the same ``as_of`` finds
nothing more to change. ``run_sweeps`` writes one append-only ``RetentionEvent`` per
sweep run, even when nothing was due. No Flask request in here: the cron jobs
(``jobs.retention``) and the ``forecourt retention`` command call ``run_sweeps``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.periods import (
    ACCOUNT_DELETION_AFTER_DAYS,
    BUSINESS_RECORD_YEARS,
    IMPORT_RETENTION_DAYS,
    REQUEST_RECORD_YEARS,
    UNCONFIRMED_REQUEST_GRACE_DAYS,
)
from app.extensions import db
from app.models import RetentionEvent
from app.models.base import utcnow
from app.privacy.ledger.rows import reason
from app.privacy.lifecycle import request_retention, sweeps
from app.privacy.lifecycle.sweeping import FAILED, Counts

log = logging.getLogger(__name__)

SweepFunction = Callable[[Session, datetime, bool], Counts]

DAILY, HOURLY = "daily", "hourly"
SCHEDULES = (DAILY, HOURLY)
ALL = "all"
SWEEP_EVENT, FAILED_EVENT = "sweep", "sweep_failed"


@dataclass(frozen=True)
class Sweep:
    name: str
    schedule: str
    title: object  # a lazy translated string
    run: SweepFunction


SWEEPS: dict[str, Sweep] = {
    s.name: s
    for s in (
        Sweep("expired_exports", DAILY, _l("Export files whose download link expired"), sweeps.sweep_expired_exports),
        Sweep("inquiries", DAILY, _l("Inquiries older than the dealer retention setting"), sweeps.sweep_inquiries),
        Sweep("usage_log", DAILY, _l("Usage log entries past their retention period"), sweeps.sweep_usage_log),
        Sweep("mail_outbox", DAILY, _l("Sent e-mails older than their retention period"), sweeps.sweep_mail_outbox),
        Sweep(
            "import_batches",
            DAILY,
            _l("Uploaded imports, %(days)s days after the upload", days=IMPORT_RETENTION_DAYS),
            sweeps.sweep_import_batches,
        ),
        Sweep("erasure_ledger", DAILY, _l("Erasure ledger entries older than the oldest backup"), sweeps.sweep_erasure_ledger),
        Sweep(
            "terminated_accounts",
            DAILY,
            _l("Account and profile data of terminated dealers (day %(days)s)", days=ACCOUNT_DELETION_AFTER_DAYS),
            sweeps.sweep_terminated_accounts,
        ),
        Sweep(
            "business_records",
            DAILY,
            _l("Business records kept for %(years)s years", years=BUSINESS_RECORD_YEARS),
            sweeps.sweep_business_records,
        ),
        Sweep("deactivated_users", DAILY, _l("Deactivated user accounts to anonymise"), sweeps.sweep_deactivated_users),
        Sweep(
            "unconfirmed_requests",
            DAILY,
            _l("Unconfirmed privacy requests, %(days)s days after their link expired", days=UNCONFIRMED_REQUEST_GRACE_DAYS),
            request_retention.sweep_unconfirmed_requests,
        ),
        Sweep(
            "closed_requests",
            DAILY,
            _l("Closed privacy requests kept for %(years)s years, with their events and e-mails", years=REQUEST_RECORD_YEARS),
            request_retention.sweep_closed_requests,
        ),
        Sweep("deadline_reminders", HOURLY, _l("Reminders of privacy request deadlines"), sweeps.sweep_deadline_reminders),
        Sweep("reconcile_requests", HOURLY, _l("Privacy requests whose job was lost"), sweeps.sweep_reconcile_requests),
    )
}


class SweepsFailed(RuntimeError):
    """One or more sweeps raised; the others ran. ``results`` holds what they did."""

    def __init__(self, failed: list[str], results: dict[str, Counts]) -> None:
        super().__init__("retention sweep(s) failed: " + ", ".join(failed))
        self.failed = failed
        self.results = results


# -- running them ----------------------------------------------------------------------


def select_sweeps(names_or_schedule: str | Iterable[str] | None = ALL) -> list[Sweep]:
    """``"daily"``, ``"hourly"``, ``"all"`` (or None), one sweep name, or several names."""
    if names_or_schedule is None or names_or_schedule == ALL:
        return list(SWEEPS.values())
    if isinstance(names_or_schedule, str):
        if names_or_schedule in SCHEDULES:
            return [s for s in SWEEPS.values() if s.schedule == names_or_schedule]
        names_or_schedule = [names_or_schedule]
    wanted = list(dict.fromkeys(names_or_schedule))
    unknown = [name for name in wanted if name not in SWEEPS]
    if unknown:
        raise DomainError(_l("There is no retention sweep called %(name)s.", name=", ".join(unknown)), "sweep")
    return [s for s in SWEEPS.values() if s.name in wanted]


def run_sweeps(
    names_or_schedule: str | Iterable[str] | None = ALL,
    as_of: datetime | None = None,
    dry_run: bool = False,
    session: Session | None = None,
    actor_id: int | None = None,
) -> dict[str, Counts]:
    """Run the chosen sweeps as of ``as_of`` (default: now); returns counts per sweep.

    A real run records one ``RetentionEvent`` per sweep. A sweep that raises is rolled
    back to its last commit and recorded as ``sweep_failed``, and so is one in which a
    unit failed (counted as ``failed``; the other units went ahead); the other sweeps
    still run, then ``SweepsFailed`` is raised.
    """
    session = session or db.session
    as_of = aware(as_of or utcnow())
    results: dict[str, Counts] = {}
    failed: list[str] = []
    for item in select_sweeps(names_or_schedule):
        try:
            with reason(session, f"sweep:{item.name}"):
                counts = item.run(session, as_of, dry_run)
        except Exception as exc:
            session.rollback()
            log.exception("retention sweep %s failed", item.name)
            failed.append(item.name)
            if not dry_run:
                _record(session, FAILED_EVENT, item.name, as_of, actor_id, {"error": type(exc).__name__})
            continue
        units_failed = any(FAILED in actions for actions in counts.values())
        if units_failed:
            failed.append(item.name)
        if dry_run:
            session.rollback()
        else:
            _record(session, FAILED_EVENT if units_failed else SWEEP_EVENT, item.name, as_of, actor_id, counts)
            log.info("retention sweep %s as of %s: %s", item.name, as_of.isoformat(), counts)
        results[item.name] = counts
    if failed:
        raise SweepsFailed(failed, results)
    return results


def _record(session: Session, kind: str, name: str, as_of: datetime, actor_id: int | None, summary: dict) -> None:
    session.add(RetentionEvent(kind=kind, sweep=name, as_of=as_of, occurred_at=utcnow(), dry_run=False, actor_id=actor_id, summary=summary))
    session.commit()


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- the command's input and output ----------------------------------------------------


def parse_as_of(text: str | None) -> datetime:
    """``YYYY-MM-DD`` (the start of that day, UTC) or an ISO date-time (UTC when it has no
    offset); empty: now. Raises ``DomainError``."""
    text = (text or "").strip()
    if not text:
        return utcnow()
    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), datetime.min.time(), tzinfo=UTC)
        return aware(datetime.fromisoformat(text)).astimezone(UTC)
    except ValueError:
        raise DomainError(_l("Give the date as YYYY-MM-DD or an ISO date and time."), "as_of")


def report(results: dict[str, Counts], as_of: datetime, dry_run: bool) -> str:
    """The plain-text account of a run, per sweep per table per action."""
    when = aware(as_of).astimezone(UTC).isoformat(timespec="seconds")
    if dry_run:
        lines = [f"DRY RUN: nothing was changed. Retention sweeps as of {when} would do:"]
    else:
        lines = [f"Retention sweeps as of {when} did:"]
    for name, counts in results.items():
        schedule = SWEEPS[name].schedule if name in SWEEPS else "?"
        if not counts:
            lines.append(f"  {name} ({schedule}): nothing due")
            continue
        lines.append(f"  {name} ({schedule}):")
        for table, actions in counts.items():
            done = ", ".join(f"{action} {count}" for action, count in actions.items())
            lines.append(f"    {table}: {done}")
    return "\n".join(lines)
