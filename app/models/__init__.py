"""Every mapped model, imported once so the registry and migrations see them all."""

# ruff: noqa: I001  (the order matters: see below)
from __future__ import annotations

from sqlalchemy import event, inspect

# The security module first: importing FAB's security manager configures mappers,
# which must not happen before the user model exists.
from app.security import DealerUser

from app.models.base import UTCDateTime, apply_scalar_defaults, utcnow  # noqa: F401
from app.models.breach import Breach, BreachDealerNotice, BreachStatus  # noqa: F401
from app.models.clients import Client, ClientSource  # noqa: F401
from app.models.consent import ConsentAction, ConsentMethod, ConsentPurpose, ConsentRecord  # noqa: F401
from app.models.dealers import Dealer, DealerSocialLink, DealerStatus  # noqa: F401
from app.models.inquiries import Inquiry, InquirySource, InquiryStatus  # noqa: F401
from app.models.inventory import (  # noqa: F401
    BodyType,
    Car,
    CarCost,
    CarPhoto,
    CarPriceChange,
    CarStatus,
    CarStatusChange,
    Condition,
    CostKind,
    Fuel,
    MileageUnit,
    Transmission,
)
from app.models.lifecycle import RetentionEvent
from app.models.mail import MailMessage  # noqa: F401
from app.models.policy import PolicyVersion, SubProcessor  # noqa: F401
from app.models.privacy import (  # noqa: F401
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Disclosure,
    ErasureLedgerEntry,
    PrivacyRequest,
    PrivacyRequestEvent,
    RectificationChange,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.models.sales import Sale, SaleStatus  # noqa: F401
from app.models.usage import PageView  # noqa: F401

INSERT_ONLY = (CarPriceChange, CarStatusChange, PrivacyRequestEvent, ErasureLedgerEntry, ConsentRecord, RetentionEvent)


def _before_flush(session, flush_context, instances) -> None:
    from app.domain.clients import check_marketing_consent, flag_possible_duplicates
    from app.domain.dealers import refuse_terminated_dealer_changes
    from app.domain.inventory import record_car_history
    from app.domain.sales import apply_sales_to_cars
    from app.domain.tenancy import check_tenant_references
    from app.privacy.lifecycle.accounts import track_user_deactivation
    from app.privacy.transparency.policy import check_published_versions

    for obj in session.dirty:
        if isinstance(obj, INSERT_ONLY) and session.is_modified(obj):
            raise RuntimeError(f"{type(obj).__name__} rows are insert-only")
    check_published_versions(session)  # a published privacy policy never changes
    refuse_terminated_dealer_changes(session)  # a terminated dealer moves on its schedule only
    for obj in session.new:
        apply_scalar_defaults(obj)
    apply_sales_to_cars(session)
    record_car_history(session, session.info.get("acting_user_id"))
    track_user_deactivation(session)
    for obj in list(session.new) + list(session.dirty):
        if hasattr(type(obj), "dealer_id") and not isinstance(obj, DealerUser):
            check_tenant_references(obj, session)
        if isinstance(obj, Client) and (
            obj in session.new
            or inspect(obj).attrs.email.history.has_changes()
            or inspect(obj).attrs.phone.history.has_changes()
        ):
            with session.no_autoflush:
                flag_possible_duplicates(session, obj)
        if isinstance(obj, Client):
            check_marketing_consent(obj)
    from app.privacy.consent.ledger import record_marketing_changes

    record_marketing_changes(session)  # every change of marketing consent is in the ledger


def register_model_events() -> None:
    """Install the flush-time rules once per process."""
    from app.extensions import db
    from app.privacy.files import forget_files, remove_files
    from app.mail.notices import forget_after_rollback, send_outbox_after_commit
    from app.queueing import enqueue_pending, forget_pending

    if not event.contains(db.session, "before_flush", _before_flush):
        event.listen(db.session, "before_flush", _before_flush)
        event.listen(db.session, "after_commit", send_outbox_after_commit)
        event.listen(db.session, "after_soft_rollback", forget_after_rollback)
        event.listen(db.session, "after_commit", enqueue_pending)
        event.listen(db.session, "after_soft_rollback", forget_pending)
        event.listen(db.session, "after_commit", remove_files)
        event.listen(db.session, "after_soft_rollback", forget_files)
