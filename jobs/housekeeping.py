"""Maintenance jobs run by the cron process."""

from __future__ import annotations

import logging

from rq.registry import clean_registries

from app.extensions import get_queue

log = logging.getLogger(__name__)


def clean_job_registries(queue_name: str = "default") -> int:
    """Drop expired entries from RQ's started/finished/failed registries."""
    queue = get_queue(queue_name)
    clean_registries(queue)
    log.info("cleaned registries of queue %s", queue_name)
    return len(queue)
