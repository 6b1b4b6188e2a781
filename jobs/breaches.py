"""RQ entry point of the breach deadline reminders (cron: hourly); the work is in
``app.privacy.transparency.breach_reminders``."""

from __future__ import annotations

from app.extensions import db
from app.privacy.transparency.breach_reminders import send_deadline_reminders


def remind_breach_deadlines() -> dict[str, str]:
    """Remind the privacy officers of breaches whose 72 hours run down (idempotent)."""
    return send_deadline_reminders(db.session)
