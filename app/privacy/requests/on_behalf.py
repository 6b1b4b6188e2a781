"""Staff acting on a person's request, shared by the web pages and the REST API: filing
it on the person's behalf, and what staff are told when its job cannot be queued yet.

Tenancy of a filed request is settled here, before the request service: a dealer user
files for its own dealer and may only point at its own clients; the privacy officer
chooses the scope.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.models import Client, PrivacyRequest, RequestChannel, RequestType
from app.privacy.requests import intake


def file_on_behalf(
    session: Session,
    *,
    dealer_id: int | None,
    actor_id: int | None,
    request_type: str,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    chosen_dealer_id: int | None = None,
    client_id: int | None = None,
    details: str | None = None,
    language: str = "en",
) -> PrivacyRequest:
    """File a request for a person, as the acting user (``dealer_id``: their dealer or None).

    A dealer user's request is scoped to its dealer, whatever was chosen; a client must be
    one of that dealer's and fills in the identifiers left empty. The caller commits.
    """
    if request_type in (RequestType.account_export, RequestType.account_export.value):
        raise DomainError(_l("An account export is requested on the Account page of the dealership."), "request_type")
    scope: int | None
    if dealer_id is not None:
        if chosen_dealer_id is not None and chosen_dealer_id != dealer_id:
            raise DomainError(_l("Choose a dealership from the list."), "dealer")
        scope, channel = dealer_id, RequestChannel.dealer_admin
    else:
        scope, channel = chosen_dealer_id, RequestChannel.officer
    client = None
    if client_id is not None:
        client = session.get(Client, client_id)
        if client is None or client.dealer_id != scope or client.is_erasure_placeholder:
            raise DomainError(_l("Choose one of the dealer's clients."), "client")
        email = email or client.email  # type: ignore[assignment]  # untyped Column model
        phone = phone or client.phone  # type: ignore[assignment]  # untyped Column model
        name = name or client.full_name
    return intake.file_request(
        session,
        request_type=request_type,
        email=email,
        phone=phone,
        name=name,
        dealer_id=scope,
        client_id=client.id if client is not None else None,  # type: ignore[arg-type]  # untyped Column model
        channel=channel,
        language=language,
        details=details,
        actor_id=actor_id,
    )


def not_queued_message(reference: str):
    """What staff are told when a request's job could not be queued: the request is in
    progress in the database and the reconciler (cron) queues it once the queue is back."""
    return _l(
        "%(reference)s is marked in progress, but the job queue is unreachable right now: "
        "processing will start automatically when the queue is back.",
        reference=reference,
    )
