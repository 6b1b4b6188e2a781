"""RQ entry points for privacy requests: ids in, domain services do the work."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def process_privacy_request(request_id: int) -> str:
    """Carry out a verified request (export, erasure, restriction, objection, rectification)."""
    from app.privacy.requests.processing import process

    return process(request_id)


def reconcile_privacy_requests() -> int:
    """Re-enqueue requests that are being processed but have no live job (cron, hourly)."""
    from app.privacy.requests.processing import reconcile

    return reconcile()


def reconcile_jobs() -> dict[str, int]:
    """Re-enqueue lost privacy-request and mail jobs (cron, every minute; worker start)."""
    from app.privacy.requests.processing import reconcile_jobs as reconcile

    return reconcile()


def delete_expired_exports() -> int:
    """Delete export packages whose download link has expired (cron, daily)."""
    from app.privacy.requests.export_files import delete_expired_exports as sweep

    return sweep()
