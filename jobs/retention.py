"""RQ entry points of the retention sweeps (cron: daily and hourly); the work is in
``app.privacy.lifecycle.retention``."""

from __future__ import annotations

from app.privacy.lifecycle.retention import DAILY, HOURLY, run_sweeps


def run_daily_sweeps() -> dict[str, dict]:
    """Expired exports, old inquiries and usage log, the erasure ledger, terminated
    accounts, business records at 3 years, deactivated users."""
    return run_sweeps(DAILY)


def run_hourly_sweeps() -> dict[str, dict]:
    """Privacy-request deadline reminders and the reconciler of lost request jobs."""
    return run_sweeps(HOURLY)
