"""The first privacy policy version of a fresh install, from the template
``initial_policy.txt`` (what DOMAIN.md promises) filled in with this installation's name,
contact and supervisory authority."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from string import Template

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PolicyVersion
from app.models.base import utcnow
from app.privacy.transparency.policy_versions import next_version_number

INITIAL_TITLE = "Privacy policy"
TEMPLATE = Path(__file__).with_name("initial_policy.txt")


def ensure_first_version(session: Session, now: datetime | None = None) -> PolicyVersion | None:
    """A fresh install gets version 1 from the template, published and in force at once
    (nothing to announce); returns it, or None when a published version exists already."""
    if session.scalar(select(PolicyVersion.id).where(PolicyVersion.published_at.is_not(None)).limit(1)) is not None:
        return None
    now = now or utcnow()
    number_one_free = session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == 1)) is None
    version = PolicyVersion(
        version=1 if number_one_free else next_version_number(session),
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
    """The template policy with this installation's name, contact and supervisory authority."""
    config = current_app.config
    return (
        Template(TEMPLATE.read_text(encoding="utf-8"))
        .substitute(
            app_name=config["APP_NAME"],
            privacy_officer_email=config["PRIVACY_OFFICER_EMAIL"],
            supervisory_authority=config["SUPERVISORY_AUTHORITY"],
        )
        .strip()
    )
