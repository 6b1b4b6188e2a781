"""Rate limits of the public forms, keyed so that no visitor's IP address is stored."""

from __future__ import annotations

import hashlib
import hmac
import threading
import weakref
from functools import wraps

from flask import current_app, request


def visitor_key() -> str:
    """The rate-limit key of a visitor: a keyed hash of the IP, so that the limiter's
    storage (and its log line on a breach) never holds the address."""
    secret = current_app.config["SECRET_KEY"].encode()
    address = (request.remote_addr or "").encode()
    return "visitor-" + hmac.new(secret, b"rate-limit\0" + address, hashlib.sha256).hexdigest()[:32]


def rate_limited(config_key: str):
    """Limit POSTs with the app's limiter by ``visitor_key``; the limit is read from the
    config on every request and attached to the view on its first call, per limiter."""

    def decorate(view):
        bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        lock = threading.Lock()  # registering the limit twice would count every hit twice

        def limit() -> str:
            return current_app.config[config_key]

        @wraps(view)
        def wrapper(*args, **kwargs):
            limiter = current_app.appbuilder.sm.limiter
            with lock:
                limited = bound.get(limiter)
                if limited is None:
                    limited = bound[limiter] = limiter.limit(limit, key_func=visitor_key, methods=["POST"])(view)
            return limited(*args, **kwargs)

        return wrapper

    return decorate
