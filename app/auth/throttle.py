"""Sign-in throttling (ASVS 2.2.1), the same for the HTML login and ``POST
/api/v1/security/login``: failed attempts are counted per account name and per client, and
once either count is used up no password is checked until the window has passed.

Names that belong to no account are counted exactly like real ones, so the answer never
tells whether an account exists. The limiter's storage (``RATELIMIT_STORAGE_URI``, Redis in
production so that every web process shares it) holds keyed hashes only: no username and no
IP address.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, has_request_context, request
from limits import parse

from app.public.limits import visitor_key

THROTTLED = "forecourt.login_throttled"  # in the request's WSGI environ


def _limits() -> tuple:
    config = current_app.config
    return parse(config["LOGIN_FAILURES_PER_ACCOUNT"]), parse(config["LOGIN_FAILURES_PER_CLIENT"])


def _account_key(username: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    name = (username or "").strip().casefold().encode()
    return "login-account-" + hmac.new(secret, b"login\0" + name, hashlib.sha256).hexdigest()[:32]


def _strategy():
    return current_app.appbuilder.sm.limiter.limiter


def is_throttled(username: str) -> bool:
    per_account, per_client = _limits()
    strategy = _strategy()
    throttled = not strategy.test(per_account, _account_key(username)) or not strategy.test(per_client, visitor_key())
    if throttled:
        request.environ[THROTTLED] = True
    return throttled


def record_failure(username: str) -> None:
    per_account, per_client = _limits()
    strategy = _strategy()
    strategy.hit(per_account, _account_key(username))
    strategy.hit(per_client, visitor_key())


def record_success(username: str) -> None:
    """A right password clears the account's count (the client's keeps running)."""
    per_account, _per_client = _limits()
    _strategy().clear(per_account, _account_key(username))


def was_throttled() -> bool:
    """Whether this request's sign-in was refused by the throttle."""
    return has_request_context() and bool(request.environ.get(THROTTLED))


def retry_after_seconds() -> int:
    per_account, per_client = _limits()
    return max(per_account.get_expiry(), per_client.get_expiry())
