"""Session and token rules (ASVS V3): idle and absolute timeouts, and one version per user
that ends every other session and token when it changes.

``DealerUser.session_version`` is copied into the session at sign-in and into every JWT
(claim ``sv``). It moves on at logout, and at every flush that changes the user's password,
roles or active flag, whatever path made the change (a form, the API, a job, the shell).
A session or token carrying an older version is no longer signed in.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models.users import DealerUser

VERSION = "_fc_sv"
SIGNED_IN_AT = "_fc_auth_at"
SEEN_AT = "_fc_seen_at"
TOUCH_EVERY = 60  # seconds: how stale "last seen" may get before the session is rewritten
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", VERSION, SIGNED_IN_AT, SEEN_AT)
CLAIM = "sv"


def start_session(_sender: Any, user: Any, **_extra: Any) -> None:
    """flask-login's ``user_logged_in``: stamp the user's version and the sign-in time."""
    now = int(time.time())
    session[VERSION] = user.session_version or 0
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def keep_this_session(user: Any) -> None:
    """After the signed-in user changed their own password: this session goes on."""
    session[VERSION] = user.session_version or 0


def session_is_current(user: Any) -> bool:
    """Whether the request's session still signs ``user`` in; an ended one is cleared."""
    now = int(time.time())
    config = current_app.config
    idle = config["SESSION_IDLE_TIMEOUT"].total_seconds()
    absolute = config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    signed_in_at = session.get(SIGNED_IN_AT, 0)
    seen_at = session.get(SEEN_AT, 0)
    if session.get(VERSION) != (user.session_version or 0):
        return _end(_l("You were signed out because your account changed or signed out elsewhere."))
    if now - signed_in_at > absolute or now - seen_at > idle:
        return _end(_l("Your session has expired. Sign in again."))
    if now - seen_at >= TOUCH_EVERY:
        session[SEEN_AT] = now
    return True


def _end(message) -> bool:
    for key in _LOGIN_KEYS:
        session.pop(key, None)
    flash(message, "warning")
    return False


def token_is_current(user: Any, claims: dict) -> bool:
    return claims.get(CLAIM) == (user.session_version or 0)


def token_claims(identity: Any) -> dict:
    """Extra claims of every access and refresh token: the user's session version."""
    user = current_app.appbuilder.sm.get_user_by_id(int(identity))
    return {CLAIM: (user.session_version or 0) if user is not None else -1}


def end_every_session(user: Any) -> None:
    """Logout: every session and token of ``user`` ends (the caller commits)."""
    user.session_version = (user.session_version or 0) + 1


def bump_on_credential_changes(session_: Session, _context: Any, _instances: Any) -> None:
    """Flush rule: a changed password, role set or active flag ends the user's sessions."""
    for obj in session_.dirty:
        if not isinstance(obj, DealerUser):
            continue
        attrs = inspect(obj).attrs
        credentials_changed = any(attrs[name].history.has_changes() for name in ("password", "active", "roles"))
        if credentials_changed and not attrs.session_version.history.has_changes():
            end_every_session(obj)


def register_session_rules() -> None:
    if not event.contains(Session, "before_flush", bump_on_credential_changes):
        event.listen(Session, "before_flush", bump_on_credential_changes)
