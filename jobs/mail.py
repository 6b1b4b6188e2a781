"""RQ entry point for the mail outbox."""

from __future__ import annotations

from app.mail import sending


def send_mail(message_id: int) -> str:
    """Send one outbox message (idempotent: a sent message is not sent again)."""
    return sending.send_message(message_id)


def resend_unsent() -> int:
    """Enqueue outbox messages that are still unsent (their job was lost). Cron, hourly."""
    return sending.resend_unsent()
