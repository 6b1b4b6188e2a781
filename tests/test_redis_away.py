"""Honest answers while Redis is away (issue 16, item 2).

The database is the source of truth: asking for a request's processing commits it in
progress whatever Redis does; the answer says whether the job is on the queue, nothing
answers 500, and the reconciler queues what Redis lost. ``/healthz`` is liveness only,
``/readyz`` checks the database and Redis. The last test stops and restarts a real
redis-server under a stream of requests and checks every request ran exactly once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.models import PrivacyRequest, PrivacyRequestEvent, RequestChannel, RequestStatus, RequestType
from app.privacy.requests import intake
from tests.privacy_support import reload
from tests.queue_support import run_queue

URL = "/api/v1/privacy_request/"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def file(db, request_type=RequestType.objection) -> PrivacyRequest:
    request = intake.file_request(
        db.session, request_type=request_type, email=f"away-{uuid.uuid4().hex[:12]}@example.org", channel=RequestChannel.officer
    )
    db.session.commit()
    return request


@pytest.fixture
def redis_away(app, monkeypatch):
    """The app's Redis is a port where nothing listens: every connection is refused."""
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")


def events(db, request_id: int) -> Counter:
    kinds = db.session.scalars(select(PrivacyRequestEvent.kind).where(PrivacyRequestEvent.request_id == request_id))
    return Counter(kinds)


# -- process: the answer says whether the job is queued ------------------------------------


def test_api_process_says_not_queued_when_redis_is_unreachable(db, api, redis_away):
    item = file(db)
    response = api("privacy").post(f"{URL}{item.id}/process", json={})
    assert response.status_code == 202, response.json
    body = response.json
    assert body["status"] == "in_progress" and body["job_id"] == f"privacy-request-{item.id}"
    assert body["queued"] is False
    assert "queue is back" in body["message"] and item.reference in body["message"]
    assert reload(db, item.id).status is RequestStatus.in_progress  # committed: the database is the truth


def test_api_process_says_queued_when_redis_answers(app, db, api):
    from app.extensions import redis_connection

    item = file(db)
    response = api("privacy").post(f"{URL}{item.id}/process", json={})
    try:
        assert response.status_code == 202 and response.json["queued"] is True and "message" not in response.json
    finally:
        with app.app_context():
            redis_connection().delete(f"rq:job:privacy-request-{item.id}")


def test_api_process_message_is_translated(db, api, redis_away):
    item = file(db)
    client = api("privacy")
    response = client.post(f"{URL}{item.id}/process", json={}, headers={"Accept-Language": "de"})
    assert response.status_code == 202 and response.json["queued"] is False
    assert response.json["message"]  # the msgid until the catalogue has it; never empty


def test_officer_button_warns_when_redis_is_unreachable(db, login, redis_away):
    item = file(db)
    browser = login("privacy")
    show = f"/privacyrequestview/show/{item.id}"
    response = browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=show, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "queue is unreachable" in page and "has started" not in page
    assert reload(db, item.id).status is RequestStatus.in_progress


# -- reading: never a 500 -------------------------------------------------------------------


def test_api_status_answers_while_redis_is_unreachable(db, api, redis_away):
    item = file(db)
    client = api("privacy")
    assert client.post(f"{URL}{item.id}/process", json={}).status_code == 202
    response = client.get(f"{URL}{item.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.json["result"]
    assert result["status"] == "in_progress" and result["job"]["status"] == "unknown"


def test_progress_endpoint_answers_while_redis_is_unreachable(db, login, redis_away):
    item = file(db)
    browser = login("privacy")
    browser.post_form(f"/privacyrequestview/process/{item.id}", {}, form_url=f"/privacyrequestview/show/{item.id}")
    response = browser.get(f"/privacyrequestview/status/{item.id}")
    assert response.status_code == 200
    assert response.json["status"] == "in_progress" and response.json["job"]["status"] == "unknown"
    assert browser.get(f"/privacyrequestview/show/{item.id}").status_code == 200


# -- the reconciler picks them up -------------------------------------------------------------


def test_reconcile_finds_a_request_committed_in_progress_without_a_job(app, db, api, monkeypatch):
    from rq.job import Job

    from app.extensions import redis_connection
    from app.privacy.requests.processing import reconcile

    item = file(db)
    away = f"redis://127.0.0.1:{free_port()}/0"
    with monkeypatch.context() as patch:
        patch.setitem(app.config, "REDIS_URL", away)
        assert api("privacy").post(f"{URL}{item.id}/process", json={}).json["queued"] is False
    # Redis is back (the suite's embedded one): the reconciler queues it, the worker runs it.
    assert reconcile(dry_run=True, request_ids=[item.id]) == 1
    assert reconcile(request_ids=[item.id]) == 1
    assert Job.fetch(f"privacy-request-{item.id}", connection=redis_connection()).args == (item.id,)
    run_queue(app)
    assert reload(db, item.id).status is RequestStatus.completed
    assert events(db, item.id)["completed"] == 1


# -- liveness and readiness -----------------------------------------------------------------------


def test_healthz_is_liveness_and_checks_no_dependency(app, redis_away, monkeypatch):
    from app.extensions import db as _db

    def broken(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(_db.session, "execute", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_ok_when_database_and_redis_answer(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}, "failed": []}


def test_readyz_names_redis_when_it_is_unreachable(app, redis_away):
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.is_json
    assert response.json["failed"] == ["redis"] and response.json["checks"] == {"database": "ok", "redis": "unavailable"}


def test_readyz_names_the_database_when_it_is_unreachable(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.extensions import db as _db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database away"))

    monkeypatch.setattr(_db.session, "execute", broken)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["database"]


# -- a real redis-server stopped and restarted under a stream of requests ------------------------


class RedisServer:
    """A throwaway redis-server on a free loopback port, no persistence: a restart loses
    every queued job, the worst case for the reconciler."""

    def __init__(self, binary: str, directory):
        self.binary, self.directory = binary, directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from redis import Redis

        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                if Redis.from_url(self.url, socket_connect_timeout=1).ping():
                    return
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.path.exists(p)), None
    )
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    server.stop()


# Each request is filed, marked in progress and enqueued (every 25th through the REST API, the
# rest through the same service functions), then run by a worker with its mail notice (two
# jobs and several commits per request). CI runs the full 1,000 (issue 16); a local run takes
# 400 (1,000 take ~80 s on a 2-core machine, SQLite commits dominate), which keep the same
# three phases (before, during, after the outage). REDIS_RESTART_REQUESTS overrides both.
STREAM = int(os.environ.get("REDIS_RESTART_REQUESTS", "1000" if os.environ.get("CI") == "true" else "400"))


def test_requests_survive_a_redis_restart_and_run_exactly_once(app, db, api, monkeypatch, redis_server):
    from app.privacy.requests.processing import reconcile, request_processing
    from app.queueing import try_enqueue_request

    started = time.monotonic()
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server.url)
    client = api("privacy")
    stop_at, restart_at, early_worker_at = STREAM // 3, 2 * STREAM // 3, STREAM // 6
    ids, answers = [], Counter()
    for i in range(STREAM):
        if i == early_worker_at:
            run_queue(app)  # some complete before the outage: they must not run again
        if i == stop_at:
            redis_server.stop()
        if i == restart_at:
            redis_server.start()  # empty: the jobs queued before the stop are gone
        up = not (stop_at <= i < restart_at)
        item = file(db)
        ids.append(item.id)
        if i % 25 == 0:
            response = client.post(f"{URL}{item.id}/process", json={})
            assert response.status_code == 202, response.get_data(as_text=True)
            queued = response.json["queued"]
            shown = client.get(f"{URL}{item.id}")
            assert shown.status_code == 200
            assert (shown.json["result"]["job"]["status"] == "unknown") is not up
        else:
            request_processing(db.session, item, None)
            db.session.commit()
            queued = try_enqueue_request(item.id).queued
        assert queued is up, f"request {i}: queued={queued} while Redis {'up' if up else 'down'}"
        answers[queued] += 1
    assert answers == {True: STREAM - (restart_at - stop_at), False: restart_at - stop_at}

    db.session.expire_all()
    in_progress = db.session.scalar(
        select(func.count()).where(PrivacyRequest.id.in_(ids), PrivacyRequest.status == RequestStatus.in_progress)
    )
    lost = reconcile(request_ids=ids)
    # Everything in progress that the restart lost, or that was never queued, is queued again.
    assert lost == in_progress - (STREAM - restart_at)
    run_queue(app)
    assert reconcile(request_ids=ids) == 0  # nothing left behind
    run_queue(app)  # a second pass changes nothing

    db.session.expire_all()
    statuses = Counter(db.session.scalars(select(PrivacyRequest.status).where(PrivacyRequest.id.in_(ids))))
    assert statuses == {RequestStatus.completed: STREAM}, statuses  # 0 lost
    per_request = Counter()
    rows = db.session.execute(
        select(PrivacyRequestEvent.request_id, PrivacyRequestEvent.kind, func.count())
        .where(
            PrivacyRequestEvent.request_id.in_(ids), PrivacyRequestEvent.kind.in_(["started", "marketing_objection_recorded", "completed"])
        )
        .group_by(PrivacyRequestEvent.request_id, PrivacyRequestEvent.kind)
    ).all()
    for request_id, kind, n in rows:
        per_request[(request_id, kind)] = n
    for request_id in ids:  # 0 run twice: one start, one objection recorded, one completion each
        for kind in ("started", "marketing_objection_recorded", "completed"):
            assert per_request[(request_id, kind)] == 1, (request_id, kind, per_request[(request_id, kind)])
    assert time.monotonic() - started < 90
