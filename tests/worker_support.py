"""Real ``flask forecourt worker`` subprocesses for the tests that kill them: their
environment, their work horses, killing them outright, and reading the database between."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def worker_env(app) -> dict[str, str]:
    from app.extensions import redis_url

    env = dict(os.environ)
    env.update(
        FORECOURT_CONFIG="testing",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url(),
        PRIVACY_BATCH_SIZE="2",
        PRIVACY_BATCH_PAUSE="0.3",
    )
    env.pop("MAIL_SERVER", None)
    return env


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the worker's work horse, which RQ puts in its own
    process group), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse at once, as when their machine dies; then free
    the scheduler lock the dead worker held, which would otherwise keep the in-process
    workers of later tests from moving due retries for a minute and more."""
    from rq.scheduler import RQScheduler

    from app.extensions import redis_connection

    for pid in [worker.pid, *children(worker.pid)]:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=30)
    connection = redis_connection()
    for key in connection.keys(RQScheduler.get_locking_key("*")):
        connection.delete(key)


def scalar(db, query):
    value = db.session.scalar(query)
    db.session.rollback()  # hold no lock on the database the worker writes to
    return value
