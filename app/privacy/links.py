"""Signed links sent to people: confirming a request, downloading an export.

Each token is bound to one request (and, for downloads, to one export file by its hash),
carries its purpose as the salt, and expires.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

VERIFY = "privacy-request-verify"
DOWNLOAD = "privacy-export-download"


class LinkError(Exception):
    """The link is forged, for another request or file, or expired (``expired``)."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(purpose: str, request_id: int, bound_to: str = "") -> str:
    return _serializer(purpose).dumps({"r": request_id, "b": bound_to})


def read_token(purpose: str, token: str, max_age: timedelta) -> tuple[int, str]:
    """The request id and the value the token is bound to; raises ``LinkError``."""
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise LinkError(expired=True)
    except BadSignature:
        raise LinkError()
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        raise LinkError()
    return data["r"], str(data.get("b", ""))


def public_url(path: str) -> str:
    """An absolute link for e-mails, built without a request (jobs send the mail)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
