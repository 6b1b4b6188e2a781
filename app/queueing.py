"""Putting background work on the RQ queue: privacy requests and outbox mail, with ids only.

This is the one module that enqueues jobs. Each job's id is derived from what it works on
(``privacy-request-<id>``, ``mail-<id>``), so enqueueing twice is harmless; a job that is
finished, failed or whose worker died is replaced.

A job is *live* only when something will really run it (``is_live``):

- ``queued``: its id is in its queue (a status left behind without the queue entry is not);
- ``started``: the worker holding it is still alive: its key exists and its last heartbeat
  is recent (a busy worker beats every ``WORKER_HEARTBEAT`` seconds; a killed one stops,
  and is taken for dead after ``WORKER_SILENCE`` instead of when Redis lets its key expire);
- ``scheduled`` (an RQ retry, also what RQ makes of a job whose worker died): it is in the
  scheduled registry and not overdue by more than ``OVERDUE_MARGIN``. Every worker runs a
  scheduler that moves due jobs to their queue within seconds, so a job overdue by a minute
  has no scheduler to move it;
- ``deferred``: it is in the deferred registry (no job here has dependencies).

The reconciler (``app.privacy.requests.processing.reconcile_jobs``, every minute from the cron
process and once at worker start) replaces every job that is not live.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry
from rq.worker import Worker

from app.extensions import get_queue, redis_connection

log = logging.getLogger(__name__)

RETRY = Retry(max=3, interval=[10, 60, 300])
# A scheduled job due longer ago than this has no scheduler to move it (see the module doc).
OVERDUE_MARGIN = timedelta(seconds=60)
# Seconds between a busy worker's heartbeats (RQ's job_monitoring_interval, set by
# jobs.worker), and the silence after which its worker counts as dead: with the reconciler
# every minute, a job of a killed worker resumes within WORKER_SILENCE + 60 s.
WORKER_HEARTBEAT = 10
WORKER_SILENCE = timedelta(seconds=3 * WORKER_HEARTBEAT)


def request_job_id(request_id: int) -> str:
    return f"privacy-request-{request_id}"


def mail_job_id(message_id: int) -> str:
    return f"mail-{message_id}"


def fetch_job(job_id: str) -> Job | None:
    """The job with this id, or None (never enqueued, or its data expired)."""
    try:
        return Job.fetch(job_id, connection=redis_connection())
    except (NoSuchJobError, InvalidJobOperation):  # gone, or its data expired
        return None


def has_live_job(job_id: str) -> bool:
    """Will the job with this id run (or is it running)? The reconciler's question."""
    return is_live(fetch_job(job_id))


def _worker_alive(job: Job) -> bool:
    if not job.worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis_connection())
    if worker is None:
        return False
    beat = worker.last_heartbeat
    if beat is not None and beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return beat is None or datetime.now(UTC) - beat <= WORKER_SILENCE


def _in_queue(job: Job) -> bool:
    return get_queue(job.origin).get_job_position(job.id) is not None


def _scheduled_in_time(job: Job) -> bool:
    registry = ScheduledJobRegistry(job.origin, connection=redis_connection())
    score = redis_connection().zscore(registry.key, job.id)
    if score is None:
        return False
    due = datetime.fromtimestamp(score, tz=UTC)
    return datetime.now(UTC) - due <= OVERDUE_MARGIN


def _deferred(job: Job) -> bool:
    registry = DeferredJobRegistry(job.origin, connection=redis_connection())
    return redis_connection().zscore(registry.key, job.id) is not None


def is_live(job: Job | None) -> bool:
    """Something will run this job, or runs it now (the rules are in the module doc)."""
    if job is None:
        return False
    status = job.get_status(refresh=True)
    if status == JobStatus.QUEUED:
        return _in_queue(job)
    if status == JobStatus.STARTED:
        return _worker_alive(job)
    if status == JobStatus.SCHEDULED:
        return _scheduled_in_time(job)
    if status == JobStatus.DEFERRED:
        return _deferred(job)
    return False


def enqueue_unique(func: str, job_id: str, *args, queue_name: str = "default", **kwargs) -> Job:
    """Enqueue ``func(*args)`` under ``job_id`` unless a live job with that id exists."""
    existing = fetch_job(job_id)
    if existing is not None and is_live(existing):
        return existing
    if existing is not None:
        existing.delete()
    return get_queue(queue_name).enqueue(func, *args, job_id=job_id, retry=RETRY, job_timeout="2h", **kwargs)


def enqueue_request(request_id: int) -> Job:
    """Process a privacy request (the request must already be committed)."""
    return enqueue_unique("jobs.privacy.process_privacy_request", request_job_id(request_id), request_id)


class Enqueued(NamedTuple):
    """What asking for a request's job came to: its id, and whether it is on the queue."""

    job_id: str
    queued: bool


def try_enqueue_request(request_id: int) -> Enqueued:
    """Queue the committed request's job and say whether that worked. Redis away (or any
    other failure to enqueue): ``queued`` is False and nothing is lost, because the request
    is in progress in the database and the reconciler (cron) queues it once Redis is back."""
    try:
        return Enqueued(enqueue_request(request_id).id, True)
    except Exception:
        log.exception("could not enqueue privacy request %s; the reconciler will", request_id)
        return Enqueued(request_job_id(request_id), False)


def enqueue_mail(message_id: int) -> Job:
    return enqueue_unique("jobs.mail.send_mail", mail_job_id(message_id), message_id)


UNKNOWN_JOB = {"status": "unknown", "queue": "unreachable"}


def job_meta(request_id: int) -> dict:
    """The job's status and progress meta; ``{}`` without a job, and ``UNKNOWN_JOB`` when
    Redis cannot be asked (the database still knows the request's own state)."""
    try:
        job = fetch_job(request_job_id(request_id))
        if job is None:
            return {}
        return {"status": job.get_status(refresh=True), **(job.get_meta(refresh=True) or {})}
    except (RedisError, OSError):
        log.warning("job of privacy request %s: Redis unreachable", request_id)
        return dict(UNKNOWN_JOB)


# -- after the commit -------------------------------------------------------------------

PENDING_KEY = "privacy_requests_to_enqueue"


def enqueue_request_after_commit(session, request_id: int) -> None:
    """Domain code asks for a request's job; it is enqueued once ``session`` commits
    (``enqueue_pending``), never before the row exists for the worker."""
    session.info.setdefault(PENDING_KEY, []).append(request_id)


def enqueue_pending(session) -> None:
    """Session ``after_commit`` hook. Redis away: the reconciler (cron) queues them later."""
    for request_id in dict.fromkeys(session.info.pop(PENDING_KEY, [])):
        try:
            enqueue_request(request_id)
        except Exception:
            log.exception("could not enqueue privacy request %s; the reconciler will", request_id)
    for batch_id in dict.fromkeys(session.info.pop(IMPORTS_PENDING_KEY, [])):
        try:
            enqueue_import(batch_id)
        except Exception:
            log.exception("could not enqueue import %s; confirming it again queues it", batch_id)


def forget_pending(session, *args) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(IMPORTS_PENDING_KEY, None)


def list_export_job_id(token: str) -> str:
    return f"list-export-{token}"


def enqueue_list_export(endpoint: str, args: list[tuple[str, str]], user_id: int, fmt: str, mode: str, locale: str, token: str) -> Job:
    """Write a big list export to the file store (``jobs.list_export.export_list``); the
    arguments are the list's own (filters, order), replayed as the user who asked."""
    return enqueue_unique("jobs.list_export.export_list", list_export_job_id(token), endpoint, args, user_id, fmt, mode, locale, token)


# -- imports (app.workbench) ------------------------------------------------------------

IMPORTS_PENDING_KEY = "imports_to_apply"


def import_job_id(batch_id: int) -> str:
    return f"import-{batch_id}"


def enqueue_import(batch_id: int) -> Job:
    """Apply a confirmed import batch (committed as queued); twice is harmless."""
    return enqueue_unique("jobs.imports.apply_import", import_job_id(batch_id), batch_id)


def enqueue_import_after_commit(session, batch_id: int) -> None:
    """The batch's job is enqueued once ``session`` commits (``enqueue_pending``)."""
    session.info.setdefault(IMPORTS_PENDING_KEY, []).append(batch_id)


def import_job_meta(batch_id: int) -> dict:
    """The import job's status and progress; ``UNKNOWN_JOB`` when Redis cannot be asked."""
    try:
        job = fetch_job(import_job_id(batch_id))
        if job is None:
            return {}
        status = job.get_status(refresh=True)
        return {"status": getattr(status, "value", status), **(job.get_meta(refresh=True) or {})}
    except (RedisError, OSError):
        log.warning("job of import %s: Redis unreachable", batch_id)
        return dict(UNKNOWN_JOB)
