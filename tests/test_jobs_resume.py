"""No job is ever lost or stuck (issue 16): a job counts as live only when something will
really run it, the reconciler runs every minute and at worker start, and work killed
half-way (a SIGKILLed work horse, a SIGKILLed worker) resumes with nothing duplicated.

The kill tests run real `flask --app run forecourt worker` subprocesses on the test's own
database and Redis (helpers from ``test_privacy_erasure_kill``); every wait polls against
a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.worker import Worker
from sqlalchemy import func, select

from app.extensions import get_queue, redis_connection
from app.models import ErasureLedgerEntry, Inquiry, MailMessage, PrivacyRequest, RequestStatus
from app.models.base import utcnow
from app.privacy.requests import processing
from app.queueing import enqueue_request, fetch_job, has_live_job, mail_job_id, request_job_id
from tests.factories import add_client, add_inquiry, new_person
from tests.privacy_support import confirm, file_access, file_erasure, ledger
from tests.queue_support import run_queue
from tests.worker_support import REPO, children, kill_worker, scalar, worker_env

INQUIRIES = 30
DEADLINE = 45  # seconds for any one wait; a whole test stays well under a minute or two


# -- helpers ---------------------------------------------------------------------------


def start_worker(app, tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    log_path = tmp_path / f"{name}.log"
    env = worker_env(app)
    env["FORECOURT_DATA_DIR"] = app.config["DATA_DIR"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run", "forecourt", "worker"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return worker, log_path


def wait_for(condition, what: str, worker: subprocess.Popen | None = None, log_path: Path | None = None):
    deadline = time.monotonic() + DEADLINE
    while True:
        value = condition()
        if value:
            return value
        tail = log_path.read_text()[-3000:] if log_path else ""
        if worker is not None:
            assert worker.poll() is None, f"the worker exited while waiting for {what}: {tail}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {tail}"
        time.sleep(0.05)


def work_horse(worker: subprocess.Popen) -> int | None:
    """The worker's forked work horse: RQ puts it in a process group of its own (the
    scheduler, the worker's other child, stays in the worker's group)."""
    for pid in children(worker.pid):
        try:
            if os.getpgid(pid) == pid:
                return pid
        except ProcessLookupError:
            continue
    return None


def job_status(job_id: str):
    job = fetch_job(job_id)
    return job.get_status(refresh=True) if job is not None else None


def forget_dead_workers(job_id: str) -> None:
    """Redis forgets a dead worker when its key's TTL runs out (~90 s while busy); skip the
    wait, as the erasure kill test does."""
    job = Job.fetch(job_id, connection=redis_connection())
    if job.worker_name:
        redis_connection().delete(Worker.redis_worker_namespace_prefix + job.worker_name)


def make_overdue(job_id: str, by: timedelta = timedelta(minutes=5)) -> None:
    """Let time pass for a scheduled job: it was due ``by`` ago."""
    registry = ScheduledJobRegistry("default", connection=redis_connection())
    assert redis_connection().zscore(registry.key, job_id) is not None
    redis_connection().zadd(registry.key, {job_id: int(time.time() - by.total_seconds())})


def status_of(db, request_id: int) -> RequestStatus:
    return scalar(db, select(PrivacyRequest.status).where(PrivacyRequest.id == request_id))


def mails_of(db, request_id: int) -> list[tuple[str, bool]]:
    rows = db.session.execute(
        select(MailMessage.kind, MailMessage.sent_at).where(MailMessage.request_id == request_id).order_by(MailMessage.id)
    ).all()
    db.session.rollback()
    return [(kind, sent is not None) for kind, sent in rows]


def erasure_with_inquiries(db, dealer_ids) -> tuple[int, object]:
    north = dealer_ids["north-motors"]
    p = new_person()
    client = add_client(db, p, north)
    for number in range(INQUIRIES):
        add_inquiry(db, p, north, client=client if number % 2 else None, message=f"Question {number} from {p.name}")
    request = file_erasure(db, p, north)
    db.session.commit()
    confirm(db, request)
    return request.id, p


def in_progress_request(db, dealer_ids) -> int:
    """An access request in progress (its job not enqueued)."""
    p = new_person()
    request = file_access(db, p.email, dealer_ids["north-motors"])
    processing.request_processing(db.session, request, actor_id=None)
    db.session.commit()
    return request.id


# -- is_live and the reconciler ----------------------------------------------------------


def test_an_overdue_scheduled_job_without_a_scheduler_is_requeued_by_the_reconciler(app, db, dealer_ids):
    """The finding: a retry left ``scheduled`` with nothing to move it counted as live."""
    run_queue(app)
    request_id = in_progress_request(db, dealer_ids)
    job = enqueue_request(request_id)
    queue = get_queue()
    # What RQ does to a job whose worker died: a retry, in the scheduled registry.
    queue.remove(job)
    ScheduledJobRegistry(queue=queue).schedule(job, utcnow() + timedelta(seconds=10))
    job.set_status(JobStatus.SCHEDULED)
    assert has_live_job(request_job_id(request_id))  # due soon: a scheduler will move it
    assert processing.reconcile(request_ids=[request_id]) == 0

    make_overdue(job.id)  # a minute and more overdue: no scheduler runs
    assert not has_live_job(request_job_id(request_id))
    assert processing.reconcile(request_ids=[request_id]) == 1
    assert has_live_job(request_job_id(request_id))
    assert queue.get_job_ids().count(job.id) == 1
    assert redis_connection().zscore(ScheduledJobRegistry(queue=queue).key, job.id) is None
    assert processing.reconcile(request_ids=[request_id]) == 0
    run_queue(app)
    assert status_of(db, request_id) is RequestStatus.completed


def test_a_queued_status_without_its_queue_entry_is_not_live(app, db, dealer_ids):
    run_queue(app)
    request_id = in_progress_request(db, dealer_ids)
    job = enqueue_request(request_id)
    assert has_live_job(job.id)
    get_queue().remove(job)  # the queue entry lost (a Redis failover, a flushed list)
    assert job.get_status(refresh=True) == JobStatus.QUEUED
    assert not has_live_job(job.id)
    assert processing.reconcile(request_ids=[request_id]) == 1
    assert get_queue().get_job_ids().count(job.id) == 1
    run_queue(app)
    assert status_of(db, request_id) is RequestStatus.completed


def test_a_started_job_of_a_silent_worker_is_not_live(app, db, dealer_ids):
    """Finding: a killed worker held its job until Redis let its key expire (~90 s), and the
    reconciler came hourly. Now a worker silent for WORKER_SILENCE is taken for dead."""
    from datetime import UTC, datetime, timedelta

    from rq import Worker
    from rq.utils import utcformat

    from app.extensions import redis_connection
    from app.queueing import WORKER_SILENCE

    run_queue(app)
    request_id = in_progress_request(db, dealer_ids)
    job = enqueue_request(request_id)
    worker = Worker([get_queue()], connection=redis_connection(), name=f"silent-{request_id}")
    worker.register_birth()
    try:
        job.set_status(JobStatus.STARTED)
        job.worker_name = worker.name
        job.save()
        worker.heartbeat()
        assert has_live_job(job.id)  # a fresh heartbeat: alive, its job is not replaced
        stale = datetime.now(UTC) - WORKER_SILENCE - timedelta(seconds=5)
        redis_connection().hset(worker.key, "last_heartbeat", utcformat(stale))
        assert not has_live_job(job.id)
        assert processing.reconcile(request_ids=[request_id]) == 1
    finally:
        worker.register_death()
    run_queue(app)
    assert status_of(db, request_id) is RequestStatus.completed


def test_the_cron_runs_the_reconciler_every_minute(app):
    from jobs.worker import build_cron

    with app.app_context():
        entries = {job.name: job for job in build_cron(app).get_jobs()}
    assert entries["reconcile-jobs"].cron == "* * * * *"
    assert entries["reconcile-jobs"].func_name == "jobs.privacy.reconcile_jobs"


def test_a_lost_mail_job_is_requeued_by_the_minute_reconciler(app, db, dealer_ids):
    run_queue(app)
    request_id = in_progress_request(db, dealer_ids)
    run_queue(app)  # the export and its mail
    message = MailMessage(
        kind="test",
        to_address="lost@example.org",
        subject="Lost",
        body_text="Lost mail",
        request_id=request_id,
        created_at=utcnow() - timedelta(seconds=90),
    )
    db.session.add(message)
    db.session.commit()  # no job: as if the enqueue after the commit never happened
    message_id = message.id
    with app.app_context():
        assert not has_live_job(mail_job_id(message_id))
        processing.reconcile_jobs()  # (it looks at every message of the database)
        assert has_live_job(mail_job_id(message_id))
        processing.reconcile_jobs()  # a second run leaves the queued job alone
        assert get_queue().get_job_ids().count(mail_job_id(message_id)) == 1
    run_queue(app)
    db.session.expire_all()
    assert db.session.get(MailMessage, message_id).sent_at is not None


# -- real workers, killed ----------------------------------------------------------------


def test_a_killed_work_horse_and_worker_resume_the_erasure_once(app, db, dealer_ids, tmp_path):
    """SIGKILL the work horse mid-erasure: RQ makes the job a retry (``scheduled``). The
    worker dies too before its scheduler moves it, and the next worker's scheduler is locked
    out by the dead one's lock: the reconciler at worker start re-queues it."""
    run_queue(app)
    request_id, p = erasure_with_inquiries(db, dealer_ids)
    job_id = request_job_id(request_id)
    erased_rows = 1 + INQUIRIES
    ledgered = select(func.count()).where(ErasureLedgerEntry.request_id == request_id)
    remaining = select(func.count()).select_from(Inquiry).where(Inquiry.id.in_(p.rows["inquiry"]))

    worker, log_path = start_worker(app, tmp_path, "first")
    try:
        enqueue_request(request_id)
        wait_for(lambda: 2 <= scalar(db, ledgered) <= erased_rows // 2, "the erasure to start", worker, log_path)
        horse = wait_for(lambda: work_horse(worker), "the work horse", worker, log_path)
        os.killpg(horse, signal.SIGKILL)
        # The worker sees its horse die and turns the job into a retry.

        def retried() -> bool:
            status = job_status(job_id)
            return status in (JobStatus.SCHEDULED, JobStatus.QUEUED) or (
                status == JobStatus.STARTED and work_horse(worker) not in (None, horse)
            )

        wait_for(retried, "the retry", worker, log_path)
    finally:
        kill_worker(worker)

    partial = scalar(db, ledgered)
    assert 2 <= partial < erased_rows
    assert scalar(db, remaining) + partial == INQUIRIES  # each erased row has its ledger entry
    assert status_of(db, request_id) is RequestStatus.in_progress
    if job_status(job_id) == JobStatus.SCHEDULED:
        make_overdue(job_id)  # time passes; no live scheduler moves it
    else:  # slow machine: the first worker's scheduler re-ran it before it died
        forget_dead_workers(job_id)
    assert not has_live_job(job_id)

    worker, log_path = start_worker(app, tmp_path, "second")  # reconciles at start
    try:
        wait_for(lambda: status_of(db, request_id) is not RequestStatus.in_progress, "the erasure to finish", worker, log_path)
        wait_for(lambda: mails_of(db, request_id) and all(sent for _, sent in mails_of(db, request_id)), "its mail", worker, log_path)
    finally:
        kill_worker(worker)

    assert status_of(db, request_id) is RequestStatus.completed
    entries = ledger(db, request_id)
    db.session.rollback()
    assert len(entries) == len(set(entries)) == erased_rows + 2  # every row once, resumed or not
    assert scalar(db, remaining) == 0
    kinds = [kind for kind, _ in mails_of(db, request_id)]
    assert len(kinds) == len(set(kinds)), kinds  # no notice twice


def test_a_killed_worker_resumes_the_export_without_partial_files(app, db, dealer_ids, tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setitem(app.config, "DATA_DIR", str(store))
    run_queue(app)
    north = dealer_ids["north-motors"]
    p = new_person()
    client = add_client(db, p, north)
    for number in range(INQUIRIES):
        add_inquiry(db, p, north, client=client, message=f"Question {number} from {p.name}")
    db.session.commit()
    request = file_access(db, p.email, north)
    processing.request_processing(db.session, request, actor_id=None)
    db.session.commit()
    request_id = request.id
    job_id = request_job_id(request_id)
    exports = store / "exports"
    done = select(PrivacyRequest.progress_done).where(PrivacyRequest.id == request_id)

    worker, log_path = start_worker(app, tmp_path, "first")
    try:
        enqueue_request(request_id)
        wait_for(lambda: (scalar(db, done) or 0) >= 4 and list(exports.glob("*.part")), "the export to start", worker, log_path)
        assert work_horse(worker), "the worker runs jobs in a forked work horse"
    finally:
        kill_worker(worker)

    assert status_of(db, request_id) is RequestStatus.in_progress
    assert list(exports.glob("*.part")) and not list(exports.glob("*.zip"))  # killed half-way
    forget_dead_workers(job_id)
    assert not has_live_job(job_id)

    worker, log_path = start_worker(app, tmp_path, "second")  # reconciles at start
    try:
        wait_for(lambda: status_of(db, request_id) is not RequestStatus.in_progress, "the export to finish", worker, log_path)
        wait_for(lambda: mails_of(db, request_id) and all(sent for _, sent in mails_of(db, request_id)), "its mail", worker, log_path)
    finally:
        kill_worker(worker)

    assert status_of(db, request_id) is RequestStatus.completed
    assert not list(exports.glob("*.part")), "the killed run's partial file is gone"
    (package,) = exports.glob("*.zip")
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request_id).export_path == f"exports/{package.name}"
    db.session.rollback()
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        inquiries = json.loads(archive.read("inquiries.json")) if "inquiries.json" in names else None
    assert len(names) == len(set(names))
    listed = [entry["name"] for entry in manifest["files"]]
    assert len(listed) == len(set(listed)) and set(listed) <= set(names)
    if inquiries is not None:
        assert len(inquiries) == INQUIRIES
    kinds = [kind for kind, _ in mails_of(db, request_id)]
    assert len(kinds) == len(set(kinds)), kinds  # the completion notice once
