"""Worker and cron bootstrap, started by `flask forecourt worker` / `flask forecourt cron`."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from flask import Flask
from rq import Worker, get_current_job
from rq.cron import CronScheduler
from rq.job import Job

from app.extensions import db, get_queue, redis_connection
from app.privacy.requests.processing import reconcile_jobs
from app.queueing import WORKER_HEARTBEAT
from jobs.breaches import remind_breach_deadlines
from jobs.housekeeping import clean_job_registries
from jobs.mail import resend_unsent
from jobs.privacy import reconcile_jobs as reconcile_jobs_job
from jobs.retention import run_daily_sweeps, run_hourly_sweeps

log = logging.getLogger(__name__)

# The web app's line (app/logging.py) with the job in place of the request id.
JOB_LOG_FORMAT = "%(asctime)s %(levelname)s [%(job_id)s %(job_func)s] %(name)s: %(message)s"
WORKER_LOGGERS = ("app", "jobs", "rq")
horse_job: ContextVar[Job | None] = ContextVar("horse_job", default=None)


class JobContextFilter(logging.Filter):
    """Every record names the job it belongs to: its id and function ("-" between jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job() or horse_job.get()
        record.job_id = job.id if job is not None else "-"
        record.job_func = job.func_name if job is not None else "-"
        return True


def job_log_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(logging.Formatter(JOB_LOG_FORMAT))
    return handler


def configure_worker_logging(stream=None) -> None:
    """The app's, the jobs' and RQ's loggers write job lines (RQ then adds no handler of its own)."""
    handler = job_log_handler(stream)
    for name in WORKER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


class AppWorker(Worker):
    """An RQ worker whose forked work horses get fresh database connections and log
    which job they run."""

    def main_work_horse(self, job, queue):
        horse_job.set(job)  # the horse's own lines around the job (started, done, failed)
        db.engine.dispose(close=False)  # never share the parent's pooled sockets
        return super().main_work_horse(job, queue)


def reconcile_at_start() -> None:
    """Re-enqueue lost jobs before working: a worker restarted after a crash picks its
    work up at once instead of at the next cron minute. Never keeps the worker from starting."""
    try:
        log.info("reconciled lost jobs at worker start: %s", reconcile_jobs())
    except Exception:
        log.exception("reconciling lost jobs at worker start failed; the cron process will")
    finally:
        db.session.remove()  # no connection is carried into the forked work horses


def run_worker(app: Flask, queues: list[str], burst: bool = False) -> bool:
    configure_worker_logging()
    with app.app_context():
        reconcile_at_start()
        worker = AppWorker(
            [get_queue(name) for name in queues],
            connection=redis_connection(),
            job_monitoring_interval=WORKER_HEARTBEAT,  # the reconciler judges liveness by it
        )
        # The scheduler moves retried jobs (RQ Retry) back to their queue when they are due;
        # without one they would wait for ever. RQ lets one worker at a time run it.
        return worker.work(burst=burst, with_scheduler=True)


def build_cron(app: Flask) -> CronScheduler:
    """Exactly one cron process enqueues the periodic jobs; workers run them."""
    cron = CronScheduler(connection=redis_connection(), name="forecourt-cron")
    cron.register(clean_job_registries, queue_name="default", cron="17 * * * *", name="clean-job-registries")
    # The retention sweeps (app/privacy/lifecycle/retention.py); hourly: deadline reminders and the
    # reconciler of lost privacy-request jobs.
    cron.register(run_hourly_sweeps, queue_name="default", cron="7 * * * *", name="retention-hourly", job_timeout=1800)
    cron.register(run_daily_sweeps, queue_name="default", cron="40 3 * * *", name="retention-daily", job_timeout=4 * 3600)
    # GDPR Art. 33(1): the privacy officers are reminded as a breach's 72 hours run down.
    cron.register(remind_breach_deadlines, queue_name="default", cron="12 * * * *", name="breach-deadline-reminders")
    cron.register(resend_unsent, queue_name="default", cron="27 * * * *", name="resend-unsent-mail")
    # Lost privacy-request and mail jobs (a killed worker, a job that nothing would run)
    # are enqueued again within two minutes.
    cron.register(reconcile_jobs_job, queue_name="default", cron="* * * * *", name="reconcile-jobs", job_timeout=300)
    return cron


def run_cron(app: Flask) -> None:
    configure_worker_logging()
    with app.app_context():
        build_cron(app).start()
