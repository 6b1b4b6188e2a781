"""Who is signed in: the session's user (HTML pages) or the JWT's (the REST API); None
for a visitor or a job. Web layer only: services take ids, never this."""

from __future__ import annotations

from typing import Any

from flask import g


def current_user() -> Any | None:
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    try:
        from flask_jwt_extended import current_user as jwt_user

        return jwt_user if jwt_user else None
    except Exception:  # noqa: BLE001  (outside a JWT-protected request it raises various errors)
        return None


def signed_in_user() -> Any | None:
    """The session's user (flask-login, set before ``g.user`` is), or the API's JWT user."""
    from flask_login import current_user as session_user

    if session_user and getattr(session_user, "is_authenticated", False):
        return session_user
    return current_user()
