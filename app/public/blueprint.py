"""The public blueprint, and its health checks for the orchestrator (``/healthz``, ``/readyz``)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db, redis_connection

log = logging.getLogger(__name__)

public_bp = Blueprint("public", __name__)


@public_bp.get("/healthz")
def healthz():
    """Liveness: the process is up and answers. No dependency is checked, so an orchestrator
    does not restart healthy web processes while the database or Redis is away."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@public_bp.get("/readyz")
def readyz():
    """Readiness: the database and Redis answer. 503 names the one(s) that failed."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        log.exception("readiness: the database does not answer")
        db.session.rollback()
        checks["database"] = "unavailable"
    try:
        redis_connection().ping()
        checks["redis"] = "ok"
    except Exception:
        log.exception("readiness: Redis does not answer")
        checks["redis"] = "unavailable"
    failed = [name for name, state in checks.items() if state != "ok"]
    response = jsonify(status="unavailable" if failed else "ok", checks=checks, failed=failed)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if failed else 200
