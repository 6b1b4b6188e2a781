"""A worker killed with SIGKILL in the middle of an erasure, then restarted, finishes it
with the same end state as an uninterrupted run.

The worker is a real `flask --app run forecourt worker` subprocess on the test's own
database file (SQLite) or database (PostgreSQL) and Redis; small batches with a pause
make sure the kill lands mid-erasure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from app.models import (
    Client,
    ErasureLedgerEntry,
    Inquiry,
    PrivacyRequest,
    RequestStatus,
)
from app.privacy.requests import processing
from app.privacy.requests.scan import scan_all_text_columns
from app.queueing import enqueue_request, is_live, request_job_id
from tests.factories import add_client, add_inquiry, new_person
from tests.privacy_support import confirm, file_erasure, ledger
from tests.queue_support import run_queue
from tests.worker_support import REPO, children, kill_worker, scalar, worker_env

INQUIRIES = 30
TIMEOUT = 120


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_killed_worker_resumes_the_erasure_to_the_same_end_state(app, db, dealer_ids, tmp_path):
    from rq.job import Job
    from rq.worker import Worker

    from app.extensions import redis_connection

    run_queue(app)
    north = dealer_ids["north-motors"]
    p = new_person()
    client = add_client(db, p, north)
    for number in range(INQUIRIES):
        add_inquiry(db, p, north, client=client if number % 2 else None, message=f"Question {number} from {p.name}")
    request = file_erasure(db, p, north)
    db.session.commit()
    request_id = request.id
    confirm(db, request)
    erased_rows = 1 + INQUIRIES
    ledgered = select(func.count()).where(ErasureLedgerEntry.request_id == request_id)
    remaining = select(func.count()).select_from(Inquiry).where(Inquiry.id.in_(p.rows["inquiry"]))

    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run", "forecourt", "worker"],
        cwd=REPO,
        env=worker_env(app),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        enqueue_request(request_id)
        deadline = time.monotonic() + TIMEOUT
        while not 2 <= scalar(db, ledgered) <= erased_rows // 2:
            assert worker.poll() is None, "the worker exited: " + (tmp_path / "worker.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the erasure did not start: " + (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.05)
        horses = children(worker.pid)
        assert horses, "the worker runs jobs in a forked work horse"
        kill_worker(worker)
    finally:
        if worker.poll() is None:
            kill_worker(worker)
        log.close()

    time.sleep(0.5)
    assert not [pid for pid in horses if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)], "the work horse survived"

    # Killed half-way: some rows erased (with their ledger entries), others still there.
    partial = scalar(db, ledgered)
    assert 2 <= partial < erased_rows
    assert 0 < scalar(db, remaining) < INQUIRIES
    assert scalar(db, remaining) + partial == INQUIRIES  # each erased row has its ledger entry, no other has
    assert scalar(db, select(PrivacyRequest.status).where(PrivacyRequest.id == request_id)) is RequestStatus.in_progress

    # Redis forgets a dead worker when its key's TTL (at most ~90 s while busy) runs out;
    # skip the wait. Then the reconciler sees the job is not live and enqueues it again.
    job = Job.fetch(request_job_id(request_id), connection=redis_connection())
    assert job.worker_name
    redis_connection().delete(Worker.redis_worker_namespace_prefix + job.worker_name)
    assert not is_live(job)
    assert processing.reconcile(request_ids=[request_id]) == 1
    assert is_live(Job.fetch(request_job_id(request_id), connection=redis_connection()))

    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.completed, request.failure
    assert request.certificate["verification"]["hits"] == 0
    assert request.certificate["tables"] == {
        "client": {"delete": 1, "anonymise": 0, "keep": 0},
        "inquiry": {"delete": INQUIRIES, "anonymise": 0, "keep": 0},
        "mail_message": {"delete": 0, "anonymise": 1, "keep": 0},
        "privacy_request": {"delete": 0, "anonymise": 1, "keep": 0},
    }
    entries = ledger(db, request_id)
    assert len(entries) == len(set(entries)) == erased_rows + 2  # every row once, resumed or not
    assert scalar(db, remaining) == 0 and db.session.get(Client, p.rows["client"][0]) is None
    assert scan_all_text_columns(db.session, p.identifiers) == {}
