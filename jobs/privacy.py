"""RQ entry points for privacy requests: ids in, domain services do the work."""

from __future__ import annotations

from app.privacy.requests import processing


def process_privacy_request(request_id: int) -> str:
    """Carry out a verified request (export, erasure, restriction, objection, rectification)."""
    return processing.process(request_id)


def reconcile_jobs() -> dict[str, int]:
    """Re-enqueue lost privacy-request and mail jobs (cron, every minute; worker start)."""
    return processing.reconcile_jobs()
