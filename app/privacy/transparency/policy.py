"""Privacy policy versions: which one is in force, drafting and publishing a new one,
announcing a material change, and the rule that a published version never changes.

A draft is editable and never public. Publishing fixes the text for good: a material
change takes effect at least ``POLICY_NOTICE_DAYS`` days after it is published and
is announced to every active user by e-mail (and by the in-app banner until it takes
effect); a non-material change (a typo fix) may take effect at once and is not announced.
Version numbers and effective dates only ever increase, so the newest version in force
is always the one with the highest number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.mail.audience import active_users, user_language
from app.mail.notices import queue_notice
from app.models import PolicyVersion
from app.models.base import utcnow
from app.privacy.requests.links import public_url

INITIAL_TITLE = "Privacy policy"
# Columns a published version may still change: when it was announced (once), and
# who published it (emptied when that account is deleted).
BOOKKEEPING_COLUMNS = frozenset({"notified_at", "updated_at", "published_by_id"})


@dataclass(frozen=True)
class Publication:
    version: PolicyVersion
    notified: int  # users e-mailed about it (0 for a change that is not material)


class PublishedPolicyError(DomainError):
    """Someone tried to change or delete a published version."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "A published policy version cannot be changed or deleted: write a new version instead."
            )
        )


# ---------------------------------------------------------------------- reading


def current_version(
    session: Session, now: datetime | None = None
) -> PolicyVersion | None:
    """The version in force: the latest published one whose effective date has come."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at <= now
        )
        .order_by(PolicyVersion.effective_at.desc(), PolicyVersion.version.desc())
        .limit(1)
    ).first()


def upcoming_version(
    session: Session, now: datetime | None = None
) -> PolicyVersion | None:
    """A published version that has not taken effect yet (announced, shown in the banner)."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.published_at.is_not(None), PolicyVersion.effective_at > now
        )
        .order_by(PolicyVersion.effective_at)
        .limit(1)
    ).first()


def announced_version(
    session: Session, now: datetime | None = None
) -> PolicyVersion | None:
    """The material change that is published but not yet in force: the in-app banner
    shows it to signed-in users from its publication until its effective date."""
    now = now or utcnow()
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.published_at.is_not(None),
            PolicyVersion.published_at <= now,
            PolicyVersion.effective_at > now,
            PolicyVersion.material.is_(True),
        )
        .order_by(PolicyVersion.effective_at)
        .limit(1)
    ).first()


def published_versions(session: Session) -> list[PolicyVersion]:
    """Every published version, newest first (the public archive)."""
    return list(
        session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.published_at.is_not(None))
            .order_by(PolicyVersion.version.desc())
        )
    )


def published_version(session: Session, number: int) -> PolicyVersion | None:
    """Published version ``number``; None for a draft or a number that does not exist."""
    return session.scalars(
        select(PolicyVersion).where(
            PolicyVersion.version == number, PolicyVersion.published_at.is_not(None)
        )
    ).first()


def is_published(version: PolicyVersion) -> bool:
    return version.published_at is not None


def notice_days() -> int:
    """The configured notice period for material changes (``POLICY_NOTICE_DAYS``)."""
    return int(current_app.config["POLICY_NOTICE_DAYS"])


def next_version_number(session: Session) -> int:
    return (session.scalar(select(func.max(PolicyVersion.version))) or 0) + 1


def _latest_published(session: Session) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.published_at.is_not(None))
        .order_by(PolicyVersion.version.desc())
        .limit(1)
    ).first()


# ---------------------------------------------------------------------- drafting


def check_draft(session: Session, draft: PolicyVersion) -> None:
    """The rules of a draft, before it is saved: a title and a text, and a version number
    above every published one and used by no other version. Raises ``DomainError``."""
    if _stored_published_at(session, draft) is not None:
        raise PublishedPolicyError()
    if is_published(draft):
        raise DomainError(
            _l("A draft is published with the Publish step, not by editing it.")
        )
    draft.title = (draft.title or "").strip()
    draft.body = (draft.body or "").strip()
    draft.summary = (draft.summary or "").strip() or None
    if not draft.title:
        raise DomainError(_l("Give the version a title."), "title")
    if not draft.body:
        raise DomainError(_l("Write the text of the policy."), "body")
    if draft.version is None or draft.version < 1:
        raise DomainError(
            _l("The version number must be a whole number from 1."), "version"
        )
    with session.no_autoflush:
        latest = _latest_published(session)
        taken = session.scalar(
            select(PolicyVersion.id).where(
                PolicyVersion.version == draft.version,
                PolicyVersion.id != (draft.id or -1),
            )
        )
    if latest is not None and draft.version <= latest.version:
        raise DomainError(
            _l(
                "Version numbers increase: this one must be above %(number)s, the latest published version.",
                number=latest.version,
            ),
            "version",
        )
    if taken is not None:
        raise DomainError(
            _l("Version %(number)s exists already.", number=draft.version), "version"
        )


def check_deletable(session: Session, version: PolicyVersion) -> None:
    """Only a draft may be deleted."""
    if _stored_published_at(session, version) is not None:
        raise PublishedPolicyError()


# ---------------------------------------------------------------------- publishing


def publish(
    session: Session,
    version_id: int,
    *,
    effective_at: datetime | None,
    material: bool,
    actor_id: int | None = None,
    now: datetime | None = None,
    notice: int | None = None,
) -> Publication:
    """Publish draft ``version_id``; the caller commits. Every rule is checked before
    anything changes, so a refused publication (``DomainError``) leaves the draft as it was.

    ``effective_at`` None means "at once", which only a non-material change may do. A
    material change is announced to every active user at once (``announce``).
    """
    now = now or utcnow()
    notice = notice_days() if notice is None else notice
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise DomainError(_l("This policy version does not exist."))
    if _stored_published_at(session, version) is not None:
        raise DomainError(
            _l("Version %(number)s is published already.", number=version.version)
        )
    if effective_at is not None and effective_at.tzinfo is None:
        raise ValueError("effective_at must be timezone-aware")
    if effective_at is None:
        if material:
            raise DomainError(
                _l("A material change needs the date it takes effect."), "effective_at"
            )
        effective_at = now
    if effective_at < now:
        raise DomainError(
            _l("The effective date cannot be in the past."), "effective_at"
        )
    if material and effective_at < now + timedelta(days=notice):
        raise DomainError(
            _l(
                "A material change takes effect at least %(days)s days after it is published: choose %(earliest)s or later.",
                days=notice,
                earliest=_format_moment(now + timedelta(days=notice)),
            ),
            "effective_at",
        )
    latest = _latest_published(session)
    if latest is not None:
        if version.version <= latest.version:
            raise DomainError(
                _l(
                    "Version numbers increase: this one must be above %(number)s, the latest published version.",
                    number=latest.version,
                ),
                "version",
            )
        if effective_at < latest.effective_at:
            raise DomainError(
                _l(
                    "Version %(number)s takes effect on %(date)s: a newer version cannot take effect before it.",
                    number=latest.version,
                    date=_format_moment(latest.effective_at),
                ),
                "effective_at",
            )
    version.material = bool(material)
    version.effective_at = effective_at
    version.published_at = now
    version.published_by_id = actor_id
    session.flush()
    notified = announce(session, version, now=now) if version.material else 0
    return Publication(version=version, notified=notified)


def announce(
    session: Session, version: PolicyVersion, now: datetime | None = None
) -> int:
    """E-mail every active user about a published material change, in their language,
    once: returns how many messages were queued (0 when it was announced already)."""
    if (
        version.notified_at is not None
        or not is_published(version)
        or not version.material
    ):
        return 0
    now = now or utcnow()
    link = public_url(f"/privacy?version={version.version}")
    count = 0
    for user in active_users(session):
        queue_notice(
            session,
            "policy_changed",
            to=user.email,
            language=user_language(user),
            version=version,
            policy_url=link,
            summary=version.summary or "",
        )
        count += 1
    version.notified_at = now
    session.flush()
    return count


# ---------------------------------------------------------------------- first version


def ensure_first_version(
    session: Session, now: datetime | None = None
) -> PolicyVersion | None:
    """A fresh install gets version 1 from the template, published and in force at once
    (nothing to announce); returns it, or None when a published version exists already."""
    if (
        session.scalar(
            select(PolicyVersion.id)
            .where(PolicyVersion.published_at.is_not(None))
            .limit(1)
        )
        is not None
    ):
        return None
    now = now or utcnow()
    version = PolicyVersion(
        version=1
        if session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == 1))
        is None
        else next_version_number(session),
        title=INITIAL_TITLE,
        summary="First version.",
        body=initial_policy_text(),
        material=False,
        published_at=now,
        effective_at=now,
    )
    session.add(version)
    session.flush()
    return version


def initial_policy_text() -> str:
    """The template policy (``initial_policy.txt``: what DOMAIN.md promises) with this
    installation's name, contact and supervisory authority filled in."""
    config = current_app.config
    template = Template(
        (Path(__file__).with_name("initial_policy.txt")).read_text(encoding="utf-8")
    )
    return template.substitute(
        app_name=config["APP_NAME"],
        privacy_officer_email=config["PRIVACY_OFFICER_EMAIL"],
        supervisory_authority=config["SUPERVISORY_AUTHORITY"],
    ).strip()


# ---------------------------------------------------------------------- flush-time rule


def check_published_versions(session: Session) -> None:
    """``before_flush``: a published version is never edited or deleted, whichever code
    path tries (views, scripts, the shell); only its bookkeeping columns may be set."""
    for obj in session.deleted:
        if (
            isinstance(obj, PolicyVersion)
            and _stored_published_at(session, obj) is not None
        ):
            raise PublishedPolicyError()
    for obj in session.dirty:
        if not isinstance(obj, PolicyVersion) or not session.is_modified(obj):
            continue
        if _stored_published_at(session, obj) is None:
            continue
        state = inspect(obj)
        changed = {
            attr.key
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.has_changes()
        }
        if changed - BOOKKEEPING_COLUMNS:
            raise PublishedPolicyError()
        notified = state.attrs.notified_at.history
        if notified.has_changes() and any(
            value is not None for value in notified.deleted
        ):
            raise PublishedPolicyError()
        published_by = state.attrs.published_by_id.history
        if published_by.has_changes() and obj.published_by_id is not None:
            raise PublishedPolicyError()


def _stored_published_at(session: Session, version: PolicyVersion) -> datetime | None:
    """What the database says, whatever the object now holds."""
    if version.id is None:
        return None
    with session.no_autoflush:
        return session.scalar(
            select(PolicyVersion.published_at).where(PolicyVersion.id == version.id)
        )


def _format_moment(value: datetime) -> str:
    from app.domain.formatting import format_datetime

    return format_datetime(value)
