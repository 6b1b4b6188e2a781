"""Production refuses to start with a default secret or the demo password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config import DEFAULT_SECRET_KEY, DEMO_PASSWORD


class InsecureConfiguration(RuntimeError):
    pass


def check_production_settings(config: Mapping[str, Any]) -> None:
    if config.get("DEMO_DATA_ALLOWED", True):
        return  # development and testing
    secret = config.get("SECRET_KEY") or ""
    if secret in {DEFAULT_SECRET_KEY, "", "change-me", DEMO_PASSWORD} or len(secret) < 32:
        raise InsecureConfiguration("Set SECRET_KEY to a random value of at least 32 characters in production.")


def demo_password_in_use(users: list[Any]) -> list[str]:
    """Usernames whose password is still the demo password (checked by `forecourt init`)."""
    from werkzeug.security import check_password_hash

    return [u.username for u in users if u.password and check_password_hash(u.password, DEMO_PASSWORD)]
