"""The worker's log lines name their job (id and function), and every job function is run:
scheduled by the cron process or enqueued by the app."""

from __future__ import annotations

import importlib
import inspect
import io
import logging
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from rq.job import Job

from app.extensions import get_queue, redis_connection
from jobs.worker import WORKER_LOGGERS, build_cron, configure_worker_logging
from tests.worker_support import REPO, worker_env

JOB_MODULES = ("jobs.housekeeping", "jobs.mail", "jobs.privacy", "jobs.retention")


@pytest.fixture
def worker_logging():
    """The worker's logging on a string stream; the loggers as they were afterwards."""
    saved = {name: (logger.handlers[:], logger.level, logger.propagate) for name in WORKER_LOGGERS if (logger := logging.getLogger(name))}
    stream = io.StringIO()
    configure_worker_logging(stream)
    yield stream
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def test_a_job_line_names_the_job(app, worker_logging):
    queue_name = f"log-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        job = Job.create("jobs.housekeeping.clean_job_registries", args=(queue_name,), connection=redis_connection())
        job.perform()
        logging.getLogger("jobs.worker").info("between jobs")
    lines = worker_logging.getvalue().splitlines()
    assert any(f"[{job.id} jobs.housekeeping.clean_job_registries] jobs.housekeeping: cleaned registries" in line for line in lines)
    assert lines[-1].endswith("[- -] jobs.worker: between jobs")


def test_the_worker_process_logs_each_job_with_its_id_and_function(app, tmp_path):
    """A real ``flask forecourt worker --burst``: the work horse's lines, RQ's own included."""
    queue_name = f"log-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        job = get_queue(queue_name).enqueue("jobs.housekeeping.clean_job_registries", queue_name)
        env = worker_env(app)
    env["FORECOURT_DATA_DIR"] = app.config["DATA_DIR"]
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "forecourt", "worker", "--queue", queue_name, "--burst"],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    tag = f"[{job.id} jobs.housekeeping.clean_job_registries]"
    assert re.search(rf"INFO {re.escape(tag)} jobs.housekeeping: cleaned registries of queue {queue_name}", output), output
    assert re.search(rf"INFO {re.escape(tag)} rq.worker: .*Job OK \({job.id}\)", output), output  # RQ's own, in the horse


def job_functions() -> set[str]:
    found = set()
    for name in JOB_MODULES:
        module = importlib.import_module(name)
        found |= {
            f"{name}.{function}"
            for function, value in inspect.getmembers(module, inspect.isfunction)
            if value.__module__ == name and not function.startswith("_")
        }
    return found


def test_every_job_function_is_scheduled_or_enqueued(app):
    with app.app_context():
        scheduled = {entry.func_name for entry in build_cron(app).get_jobs()}
    sources = "\n".join(path.read_text() for path in Path(REPO, "app").rglob("*.py"))
    enqueued = {function for function in job_functions() if f'"{function}"' in sources}
    assert job_functions() - scheduled - enqueued == set()
