"""Who is told that an access or account package is ready: the person, or for an
account export the admin who asked (for a terminated dealer, every admin the termination
deactivated), each in their language, with the signed download link."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.mail import notices
from app.mail.audience import is_dealer_admin, user_language, users_of
from app.models import DealerStatus, MailMessage, PrivacyRequest


def notify_export_ready(session: Session, request: PrivacyRequest, download_url: str) -> list[MailMessage]:
    """The signed link to a finished account package: to the admin who asked for it; for a
    terminated dealer, to every admin the termination deactivated, each in their language."""
    dealer = request.dealer
    terminated = dealer is not None and dealer.status is DealerStatus.terminated
    recipients: list[tuple[str, str]] = []
    if terminated and dealer.terminated_at is not None:
        for user in users_of(session, dealer.id):
            if (
                is_dealer_admin(user)
                and user.email
                and user.anonymised_at is None
                and (user.active or (user.deactivated_at is not None and user.deactivated_at >= dealer.terminated_at))
            ):
                recipients.append((user.email, user_language(user)))
    if not recipients and request.subject_email:
        recipients.append((request.subject_email, request.language or "en"))  # type: ignore[arg-type]  # untyped Column model
    return [
        notices.queue_notice(
            session,
            "account_export_ready",
            request=request,
            to=address,
            language=language,
            dealer_name=dealer.business_name if dealer is not None else "",
            download_url=download_url,
            expires_at=request.export_expires_at,
            terminated=terminated,
        )
        for address, language in recipients
    ]
