"""A terminated dealer account is frozen: only its lifecycle moves it on.

After termination the dealer row changes only through ``app.privacy.lifecycle`` (day 30
empties the profile with a Core UPDATE and stamps ``account_deleted_at``; three years
stamp ``records_erased_at``), and it is never deleted: it stays as the tombstone that
privacy requests, breach notices and retention events point at. The rule runs on every
flush, so neither a form, the REST API, a job nor the shell can edit a terminated dealer
(say, put a slug or an e-mail back after day 30) or hard-delete one.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.domain import DomainError

# Columns the lifecycle steps stamp on a terminated dealer through the ORM.
LIFECYCLE_COLUMNS = frozenset({"account_deleted_at", "records_erased_at"})
# Set ``session.info[LIFECYCLE_FLAG] = True`` in lifecycle code that must change more.
LIFECYCLE_FLAG = "account_lifecycle"


def refuse_terminated_dealer_changes(session: Session) -> None:
    """Flush-time rule: refuse any change to a dealer whose stored status is terminated
    (other than the lifecycle stamps), and the deletion of a terminated dealer."""
    from app.models import Dealer

    if session.info.get(LIFECYCLE_FLAG):
        return
    for dealer in session.deleted:
        if isinstance(dealer, Dealer) and _stored_terminated(session, dealer):
            raise DomainError(_l("A terminated dealer account cannot be deleted: it is erased on schedule."))
    for dealer in session.dirty:
        if not isinstance(dealer, Dealer) or not session.is_modified(dealer, include_collections=False):
            continue
        state = inspect(dealer)
        changed = {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}
        if changed - LIFECYCLE_COLUMNS and _stored_terminated(session, dealer):
            raise DomainError(_l("A terminated dealer account cannot be changed."))


def _stored_terminated(session: Session, dealer) -> bool:
    from app.models import DealerStatus

    history = inspect(dealer).attrs.status.history
    if history.deleted:
        stored = history.deleted[0]
    elif history.unchanged:
        stored = history.unchanged[0]
    else:  # not loaded (or overwritten unseen): read what the database holds
        with session.no_autoflush:
            stored = session.scalar(select(type(dealer).status).where(type(dealer).id == dealer.id))
    return stored is DealerStatus.terminated or stored == DealerStatus.terminated.value
