"""The public blueprint: pages anyone may open without signing in."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db

public_bp = Blueprint("public", __name__)


@public_bp.get("/healthz")
def healthz():
    """Liveness for load balancers: the database answers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


from app.public import (  # noqa: F401  (modules that register their routes)
    downloads,  # /privacy/download/<token>
    inquiry,  # /d/<slug>/inquiry, /d/<slug>/unsubscribe/<token>, /d/<slug>/marketing
    policy,  # /privacy (the policy, every published version) and /privacy/subprocessors
    privacy_request,  # /privacy/request and its confirmation link
)
