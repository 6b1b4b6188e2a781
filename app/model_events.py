"""The rules that run on every flush and commit of the app's session, installed once by
``create_app``: insert-only tables, tenant references, the model rules of ``app.models.rules``,
and the privacy services' flush and commit hooks (consent ledger, policy versions, account
deactivation, queued mail, queued privacy work, files to remove, the deletion ledger's entries)."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.domain.clients import check_marketing_consent
from app.domain.tenancy import check_tenant_references
from app.extensions import db
from app.mail.notices import forget_after_rollback, send_outbox_after_commit
from app.models import (
    Car,
    CarPhoto,
    CarPriceChange,
    CarStatusChange,
    ChangeRecord,
    Client,
    ConsentRecord,
    DealerUser,
    ErasureLedgerEntry,
    PrivacyRequestEvent,
    RetentionEvent,
)
from app.models.base import apply_scalar_defaults
from app.models.rules import apply_sales_to_cars, flag_possible_duplicates, record_car_history, refuse_terminated_dealer_changes
from app.privacy.consent.marketing_changes import record_marketing_changes
from app.privacy.files import forget_files, keep_written, remove_files, remove_files_of_rows, remove_stored_after_commit, remove_written
from app.privacy.ledger import rows as deletion_ledger
from app.privacy.lifecycle.users import track_user_deactivation
from app.privacy.transparency.policy_drafts import check_published_versions
from app.queueing import enqueue_pending, forget_pending

INSERT_ONLY = (CarPriceChange, CarStatusChange, ChangeRecord, PrivacyRequestEvent, ErasureLedgerEntry, ConsentRecord, RetentionEvent)


def apply_flush_rules(session: Session, flush_context, instances) -> None:
    """Every rule that must hold for whatever is flushed, whoever flushes it."""
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
            obj in session.new or inspect(obj).attrs.email.history.has_changes() or inspect(obj).attrs.phone.history.has_changes()
        ):
            with session.no_autoflush:
                flag_possible_duplicates(session, obj)
        if isinstance(obj, Client):
            check_marketing_consent(obj)
    record_marketing_changes(session)  # every change of marketing consent is in the ledger
    remove_photo_files_of_deleted(session)  # a photo's files go with its row, the car's with it


def remove_photo_files_of_deleted(session: Session) -> None:
    for obj in session.deleted:
        if isinstance(obj, CarPhoto):
            remove_stored_after_commit(session, obj.stored_files())
        elif isinstance(obj, Car) and obj.id is not None:
            remove_files_of_rows(session, CarPhoto.__table__, CarPhoto.__table__.c.car_id == obj.id)


def register_model_events() -> None:
    """Install the flush and commit rules once per process."""
    if not event.contains(db.session, "before_flush", apply_flush_rules):
        event.listen(db.session, "before_flush", apply_flush_rules)
        event.listen(db.session, "after_commit", send_outbox_after_commit)
        event.listen(db.session, "after_soft_rollback", forget_after_rollback)
        event.listen(db.session, "after_commit", enqueue_pending)
        event.listen(db.session, "after_soft_rollback", forget_pending)
        event.listen(db.session, "after_commit", remove_files)
        event.listen(db.session, "after_soft_rollback", forget_files)
        event.listen(db.session, "after_commit", keep_written)
        event.listen(db.session, "after_soft_rollback", remove_written)
        event.listen(db.session, "before_commit", deletion_ledger.write_before_commit)
        event.listen(db.session, "after_soft_rollback", deletion_ledger.forget_after_rollback)
