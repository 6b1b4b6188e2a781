"""The public privacy policy (every published version) and the list of sub-processors;
and the banner that announces a material change to signed-in users.

Drafts are never public: only published versions can be opened, by number.
"""

from __future__ import annotations

import logging

from flask import abort, g, render_template, request
from flask_login import current_user

from app.datamodel import MAX_INTEGER, as_row_id
from app.domain.policy_text import render_policy, sections
from app.extensions import db
from app.models import PolicyVersion
from app.models.base import utcnow
from app.privacy.transparency import policy_versions, subprocessors
from app.public.blueprint import public_bp

log = logging.getLogger(__name__)


@public_bp.get("/privacy")
def privacy_policy():
    """The version in force, or ``?version=N`` for any published version."""
    now = utcnow()
    current = policy_versions.current_version(db.session, now)
    upcoming = policy_versions.upcoming_version(db.session, now)
    number = as_row_id(request.args.get("version"), MAX_INTEGER) if "version" in request.args else None
    if "version" in request.args and number is None:
        abort(404)  # not a number a version can have
    shown = current if number is None else policy_versions.published_version(db.session, number)
    if number is not None and shown is None:
        abort(404)
    return render_template(
        "public/privacy_policy.html",
        shown=shown,
        current=current,
        upcoming=upcoming,
        replaced_on=_replaced_on(shown, now),
        versions=policy_versions.published_versions(db.session),
        body_html=render_policy(shown.body) if shown is not None else None,
        sections=sections(shown.body) if shown is not None else [],
        now=now,
    )


@public_bp.get("/privacy/subprocessors")
def subprocessor_list():
    """Who processes personal data for us: now, soon, and recently removed."""
    return render_template("public/subprocessors.html", listing=subprocessors.public_list(db.session))


def _replaced_on(shown: PolicyVersion | None, now):
    """When a version stopped being in force (None if it still is, or is not yet)."""
    if shown is None or shown.effective_at > now:
        return None
    later = [v for v in policy_versions.published_versions(db.session) if v.version > shown.version and v.effective_at <= now]
    return min((v.effective_at for v in later), default=None)


@public_bp.app_template_global("policy_banner")
def policy_banner() -> PolicyVersion | None:
    """The announced material change a signed-in user is told about on every page, from
    its publication until it takes effect (None for visitors and when there is none)."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    if "policy_banner" not in g:
        try:
            g.policy_banner = policy_versions.announced_version(db.session)
        except Exception:  # an error page must still render
            log.exception("could not look up the announced policy version")
            g.policy_banner = None
    return g.policy_banner
