"""The usage log: each HTML page a signed-in user opens is one row (path, feature, browser,
time on page, IP only where the dealer records IPs); nothing else is logged; the rows
are the person's in an access export and go with an erasure."""

from __future__ import annotations

import json
import logging
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import (
    Dealer,
    PageView,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.models.base import utcnow
from app.privacy.lifecycle.usage_log import DURATION_CAP, ViewMark, record_page_view
from app.privacy.requests import erasure_preview, export_files, intake, processing
from app.queueing import enqueue_request
from config import DEMO_PASSWORD
from tests.privacy_support import user_id
from tests.queue_support import run_queue
from tests.web_support import CSRF_RE

BROWSER = "UsageTest/1.0 (X11; Linux x86_64)"


@pytest.fixture
def person(app, db):
    """A dealer user of this test alone: (username, id, e-mail)."""
    from app.provisioning import create_user

    tag = uuid.uuid4().hex[:8]
    user = create_user(
        f"usage-{tag}", DEMO_PASSWORD, f"usage-{tag}@example.org", "DealerStaff", "north-motors", "Uma", f"Usage{tag}", check_policy=False
    )
    return user.username, user.id, user.email


@pytest.fixture
def record_ips(db, dealer_ids):
    """Switch north-motors' IP recording on or off; restored afterwards."""
    dealer = db.session.get(Dealer, dealer_ids["north-motors"])
    before = dealer.record_visitor_ip

    def switch(on: bool) -> None:
        db.session.get(Dealer, dealer_ids["north-motors"]).record_visitor_ip = on
        db.session.commit()

    yield switch
    switch(before)


def views_of(db, uid: int) -> list[PageView]:
    db.session.expire_all()
    return list(db.session.scalars(select(PageView).where(PageView.user_id == uid).order_by(PageView.id)))


def view_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PageView))


def test_a_signed_in_page_view_is_recorded_and_closed_by_the_next_one(login, db, person, dealer_ids, record_ips):
    record_ips(False)
    username, uid, _ = person
    browser = login(username)
    assert views_of(db, uid) == []  # the sign-in itself is no page view

    assert browser.get("/carmodelview/list/?_flt_0_make=Golf&page=2", headers={"User-Agent": BROWSER}).status_code == 200
    [first] = views_of(db, uid)
    assert (first.path, first.feature, first.user_agent) == ("/carmodelview/list/", "CarModelView.list", None)  # no IPs: no browser
    assert first.dealer_id == dealer_ids["north-motors"]
    assert first.duration_ms is None and first.ip_address is None

    assert browser.get("/clientmodelview/list/").status_code == 200
    first, second = views_of(db, uid)
    assert second.feature == "ClientModelView.list"
    assert first.duration_ms is not None and 0 <= first.duration_ms <= DURATION_CAP.total_seconds() * 1000
    assert second.duration_ms is None  # nothing followed it yet


def test_the_user_agent_is_cut_to_the_column(login, db, person, record_ips):
    record_ips(True)
    username, uid, _ = person
    login(username).get("/carmodelview/list/", headers={"User-Agent": "X" * 1000})
    [view] = views_of(db, uid)
    assert view.user_agent == "X" * 300


def test_duration_is_capped_and_only_the_same_users_session_closes_a_view(db, person):
    _, uid, _ = person
    other = user_id(db, "north-motors-admin")
    t0 = utcnow() - timedelta(hours=2)
    first = record_page_view(db.session, uid, None, "/a?x=1", "A.list", BROWSER, None, now=t0)
    second = record_page_view(db.session, uid, None, "/b", "B.list", BROWSER, None, now=t0 + timedelta(minutes=45), previous=first)
    record_page_view(db.session, uid, None, "/c", "C.list", BROWSER, None, now=second.viewed_at + timedelta(seconds=12.5), previous=second)
    # Another user's mark (a shared browser) never closes this user's view.
    record_page_view(
        db.session, other, None, "/d", "D.list", BROWSER, None, now=t0 + timedelta(hours=1), previous=ViewMark(uid, second.view_id, t0)
    )
    db.session.commit()

    views = views_of(db, uid)
    assert [v.path for v in views] == ["/a", "/b", "/c"]
    assert [v.duration_ms for v in views] == [30 * 60 * 1000, 12_500, None]


def test_a_second_browser_session_does_not_close_the_first_ones_view(app, db, person):
    username, uid, _ = person
    from tests.web_support import Browser

    one, two = Browser(app.test_client(), username), Browser(app.test_client(), username)
    one.login(), two.login()
    one.get("/carmodelview/list/")
    two.get("/clientmodelview/list/")
    assert [v.duration_ms for v in views_of(db, uid)] == [None, None]
    one.get("/salemodelview/list/")
    first, _, third = views_of(db, uid)
    assert first.duration_ms is not None and third.duration_ms is None


def test_a_new_sign_in_starts_a_new_session(login, db, person):
    username, uid, _ = person
    browser = login(username)
    page = browser.get("/carmodelview/list/").get_data(as_text=True)
    token = CSRF_RE.search(page)
    browser.client.post("/logout/", data={"csrf_token": token.group(1) or token.group(2)})  # the navbar's form
    browser.login()
    browser.get("/clientmodelview/list/")
    assert [v.duration_ms for v in views_of(db, uid)] == [None, None]


def test_api_calls_json_static_files_errors_and_anonymous_pages_are_not_recorded(app, login, api, db, person):
    username, _, _ = person
    officer = user_id(db, "privacy")
    request = intake.file_request(
        db.session,
        request_type=RequestType.access,
        email=f"nobody-{uuid.uuid4().hex[:6]}@example.org",
        channel=RequestChannel.officer,
        actor_id=officer,
    )
    db.session.commit()
    before = view_count(db)

    assert api(username).get("/api/v1/car/").status_code == 200
    browser = login(username)
    assert browser.get("/static/forecourt/forecourt.css").status_code == 200
    assert browser.get("/static/appbuilder/css/ab.css").status_code == 200
    assert browser.get("/healthz").status_code == 200
    assert browser.get("/carmodelview/show/999999999").status_code == 404
    assert browser.client.head("/carmodelview/list/").status_code == 200
    status = login("privacy").get(f"/privacyrequestview/status/{request.id}")
    assert status.status_code == 200 and status.mimetype == "application/json"
    anonymous = app.test_client()
    for url in ("/login/", "/privacy/request", "/privacy"):
        assert anonymous.get(url).status_code in (200, 302)
    assert view_count(db) == before


def test_public_pages_with_secret_links_are_not_recorded_for_a_signed_in_user(app, login, db, person, dealer_ids):
    from app.privacy.consent.unsubscribe import unsubscribe_url
    from app.privacy.links import VERIFY, make_token

    username, uid, email = person
    filed = intake.file_request(db.session, request_type=RequestType.access, email=f"secret-{uuid.uuid4().hex[:6]}@example.org")
    db.session.commit()
    verify = f"/privacy/request/verify/{make_token(VERIFY, filed.id)}"
    unsubscribe = unsubscribe_url(dealer_ids["north-motors"], email, db.session)
    unsubscribe = "/" + unsubscribe.split("/", 3)[3]
    browser = login(username)
    for url in (verify, unsubscribe, "/privacy/download/not-a-valid-token", "/privacy", "/d/north-motors/marketing"):
        response = browser.get(url)
        assert response.mimetype == "text/html" and response.status_code < 500, url
    assert browser.get(verify).status_code == 200 and browser.get(unsubscribe).status_code == 200
    assert views_of(db, uid) == []
    assert browser.get("/carmodelview/list/").status_code == 200  # the same browser's own pages still count
    [view] = views_of(db, uid)
    assert view.feature == "CarModelView.list"


def test_ip_is_stored_only_when_the_dealer_records_ips_and_never_for_internal_staff(app, login, db, person, record_ips):
    username, uid, _ = person
    ip = {"REMOTE_ADDR": "203.0.113.9"}
    record_ips(True)
    browser = login(username)
    browser.get("/carmodelview/list/", environ_base=ip)
    record_ips(False)
    browser.get("/clientmodelview/list/", environ_base=ip)
    assert [v.ip_address for v in views_of(db, uid)] == ["203.0.113.9", None]

    record_ips(True)  # internal staff have no dealer: never recorded
    admin = user_id(db, "admin")
    last = db.session.scalar(select(func.max(PageView.id))) or 0
    login("admin").get("/dealermodelview/list/", environ_base=ip)
    views = [v for v in views_of(db, admin) if v.id > last]
    assert [(v.feature, v.ip_address, v.dealer_id) for v in views] == [("DealerModelView.list", None, None)]


def test_a_failing_log_never_breaks_the_page_and_logs_no_personal_data(login, db, person, monkeypatch, caplog):
    username, uid, email = person

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom {email}")

    monkeypatch.setattr("app.usage_tracking.record_page_view", broken)
    # Alembic's fileConfig (run by `forecourt init` in the session fixture) disables
    # loggers that existed before it; the app's logging is not what is tested here.
    monkeypatch.setattr(logging.getLogger("app.usage_tracking"), "disabled", False)
    browser = login(username)
    with caplog.at_level(logging.WARNING, logger="app.usage_tracking"):
        response = browser.get("/carmodelview/list/?q=secret", headers={"User-Agent": BROWSER})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True).lower()
    assert views_of(db, uid) == []
    assert "page view not recorded for CarModelView.list: RuntimeError" in caplog.text
    for personal in (email, username, "secret", BROWSER):
        assert personal not in caplog.text


def test_the_usage_log_page_is_for_internal_staff(login, db, person):
    username, _, _ = person
    login(username).get("/carmodelview/list/")
    listed = login("staff").get("/usagelog/list/")
    assert listed.status_code == 200
    assert "CarModelView.list" in listed.get_data(as_text=True)
    for user in ("north-motors-admin", "north-motors-staff"):
        assert login(user).get("/usagelog/list/").status_code == 403


# -- the person's rights -------------------------------------------------------------


def _process(app, db, request: PrivacyRequest) -> PrivacyRequest:
    enqueue_request(request.id)
    run_queue(app)
    run_queue(app)  # the mail jobs the first run queued
    db.session.expire_all()
    return db.session.get(PrivacyRequest, request.id)


def test_an_access_export_holds_the_users_page_views_and_no_one_elses(app, login, db, person, record_ips):
    record_ips(True)
    username, _, email = person
    browser = login(username)
    browser.get("/carmodelview/list/", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "198.51.100.4"})
    browser.get("/clientmodelview/list/?page=3", headers={"User-Agent": BROWSER})
    login("north-motors-admin").get("/salemodelview/list/")  # someone else's view

    request = intake.file_request(
        db.session, request_type=RequestType.access, email=email, channel=RequestChannel.officer, actor_id=user_id(db, "privacy")
    )
    db.session.commit()
    processing.request_processing(db.session, request, actor_id=user_id(db, "privacy"))
    db.session.commit()
    request = _process(app, db, request)
    assert request.status is RequestStatus.completed, request.failure

    with zipfile.ZipFile(export_files.export_file(request)) as archive:
        assert {"usage.json", "usage.csv"} <= set(archive.namelist())
        rows = json.loads(archive.read("usage.json"))
        csv_text = archive.read("usage.csv").decode("utf-8-sig")
    assert [(r["path"], r["feature"], r["user_agent"]) for r in rows] == [
        ("/carmodelview/list/", "CarModelView.list", BROWSER),
        ("/clientmodelview/list/", "ClientModelView.list", BROWSER),
    ]
    assert rows[0]["ip_address"] == "198.51.100.4" and rows[0]["duration_ms"] is not None
    assert "SaleModelView" not in csv_text and csv_text.count("ModelView.list") == 2


def test_an_erasure_deletes_the_users_page_views(app, login, db, person):
    username, uid, email = person
    login(username).get("/carmodelview/list/")
    login("north-motors-admin").get("/salemodelview/list/")
    admin = user_id(db, "north-motors-admin")
    others = len(views_of(db, admin))
    assert len(views_of(db, uid)) == 1

    officer = user_id(db, "privacy")
    request = intake.file_request(
        db.session, request_type=RequestType.erasure, email=email, channel=RequestChannel.officer, actor_id=officer
    )
    db.session.commit()
    shown = erasure_preview.preview(db.session, request, actor_id=officer)
    db.session.commit()
    assert {t["table"]: t.get("delete", 0) for t in shown["tables"]}["page_view"] == 1
    processing.request_processing(db.session, request, officer, confirm_erasure=True)
    db.session.commit()
    request = _process(app, db, request)
    assert request.status is RequestStatus.completed, request.failure
    assert views_of(db, uid) == []
    assert len(views_of(db, admin)) == others
