"""RQ entry point for the mail outbox."""

from __future__ import annotations


def send_mail(message_id: int) -> str:
    """Send one outbox message (idempotent: a sent message is not sent again)."""
    from app.mail.sending import send_message

    return send_message(message_id)


def resend_unsent() -> int:
    """Enqueue outbox messages that are still unsent (their job was lost). Cron, hourly."""
    from app.mail.sending import resend_unsent as sweep

    return sweep()
