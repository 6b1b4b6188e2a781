"""Drafting a privacy policy version, and the rule that a published version never changes.

A draft is editable and never public; publishing it (``policy_publishing``) fixes its text
for good. The rule is checked on every flush, whichever code path tries (views, scripts,
the shell).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import InstanceState, Session

from app.domain import DomainError
from app.models import PolicyVersion
from app.privacy.transparency.policy_versions import is_published, latest_published, stored_published_at

# Columns a published version may still change: when it was announced (once), and
# who published it (emptied when that account is deleted).
BOOKKEEPING_COLUMNS = frozenset({"notified_at", "updated_at", "published_by_id"})


class PublishedPolicyError(DomainError):
    """Someone tried to change or delete a published version."""

    def __init__(self) -> None:
        super().__init__(_l("A published policy version cannot be changed or deleted: write a new version instead."))


def check_draft(session: Session, draft: PolicyVersion) -> None:
    """The rules of a draft, before it is saved: a title and a text, and a version number
    above every published one and used by no other version. Raises ``DomainError``."""
    if stored_published_at(session, draft) is not None:
        raise PublishedPolicyError()
    if is_published(draft):
        raise DomainError(_l("A draft is published with the Publish step, not by editing it."))
    draft.title = (draft.title or "").strip()  # type: ignore[assignment]
    draft.body = (draft.body or "").strip()  # type: ignore[assignment]
    draft.summary = (draft.summary or "").strip() or None  # type: ignore[assignment]
    if not draft.title:
        raise DomainError(_l("Give the version a title."), "title")
    if not draft.body:
        raise DomainError(_l("Write the text of the policy."), "body")
    if draft.version is None or draft.version < 1:
        raise DomainError(_l("The version number must be a whole number from 1."), "version")
    with session.no_autoflush:
        latest = latest_published(session)
        taken = session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == draft.version, PolicyVersion.id != (draft.id or -1)))
    if latest is not None and draft.version <= latest.version:
        raise DomainError(
            _l("Version numbers increase: this one must be above %(number)s, the latest published version.", number=latest.version),
            "version",
        )
    if taken is not None:
        raise DomainError(_l("Version %(number)s exists already.", number=draft.version), "version")


def check_deletable(session: Session, version: PolicyVersion) -> None:
    """Only a draft may be deleted."""
    if stored_published_at(session, version) is not None:
        raise PublishedPolicyError()


def check_published_versions(session: Session) -> None:
    """``before_flush``: a published version is never edited or deleted, whichever code
    path tries (views, scripts, the shell); only its bookkeeping columns may be set."""
    for obj in session.deleted:
        if isinstance(obj, PolicyVersion) and stored_published_at(session, obj) is not None:
            raise PublishedPolicyError()
    for obj in session.dirty:
        if not isinstance(obj, PolicyVersion) or not session.is_modified(obj):
            continue
        if stored_published_at(session, obj) is None:
            continue
        state: InstanceState[PolicyVersion] = inspect(obj)
        changed = {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}
        if changed - BOOKKEEPING_COLUMNS:
            raise PublishedPolicyError()
        notified = state.attrs.notified_at.history
        if notified.has_changes() and any(value is not None for value in notified.deleted):
            raise PublishedPolicyError()
        published_by = state.attrs.published_by_id.history
        if published_by.has_changes() and obj.published_by_id is not None:
            raise PublishedPolicyError()
