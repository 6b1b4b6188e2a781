"""Live progress (issue 13 item 5): a real ``flask forecourt worker`` makes an export in
small, slow batches while Chromium watches the progress bar move and reach 100 % on the
same page (no reload), then the page shows the result. In English and Ukrainian, for a
person's access export (privacy request page) and a dealer's account export.

Run alone: ``.venv/bin/python -m pytest -q tests/test_browser_live_progress.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from app.domain.grants import PRIVACY_OFFICER
from tests.browser_support import login
from tests.factories import add_client, add_inquiry, make_account, make_car, new_dealer, new_person, new_user
from tests.worker_support import REPO, kill_worker, worker_env

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

FINISHED_WITHIN_MS = 90_000
# Every value the bar shows, kept by the page itself; a reload would start a new list.
WATCH_BAR = """
window.fcSeen = [];
document.addEventListener("DOMContentLoaded", function () {
  var bar = document.getElementById("privacy-progress-bar");
  if (!bar) { return; }
  new MutationObserver(function () { window.fcSeen.push(Number(bar.getAttribute("aria-valuenow"))); })
    .observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
});
"""


@pytest.fixture
def slow_worker(app, tmp_path: Path):
    """A real worker process on the app's database and queue: one row per batch, a pause
    between batches, so that an export of a few dozen rows takes seconds."""
    env = worker_env(app)
    env.update(FORECOURT_DATA_DIR=app.config["DATA_DIR"], PRIVACY_BATCH_SIZE="1", PRIVACY_BATCH_PAUSE="0.25")
    log_path = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run", "forecourt", "worker"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield worker
    finally:
        kill_worker(worker)


def _expect():
    from playwright.sync_api import expect

    return expect


def _watch_until_full(page) -> list[int]:
    """Wait for the bar at 100 % on the page that started the job; what it showed."""
    expect = _expect()
    page.evaluate("() => { window.fcSamePage = true; }")
    expect(page.locator("#privacy-progress-bar")).to_have_attribute("aria-valuenow", "100", timeout=FINISHED_WITHIN_MS)
    seen, same_page = page.evaluate("() => [window.fcSeen, window.fcSamePage === true]")
    assert same_page, "the page was reloaded before the bar was full"
    return seen


def _officer(db, language: str) -> str:
    user = new_user(PRIVACY_OFFICER, language=language)
    db.session.commit()
    return user.username


def _verified_access_request(db) -> int:
    """A person with a client record and many inquiries at a dealer of their own; their
    access request, filed and verified by the officer."""
    from app.models import RequestChannel, RequestType
    from app.privacy.requests import intake

    dealer = new_dealer(db)
    person = new_person()
    client = add_client(db, person, dealer.id)
    for _ in range(24):
        add_inquiry(db, person, dealer.id, client=client)
    request = intake.file_request(
        db.session, request_type=RequestType.access, email=person.email, dealer_id=dealer.id, channel=RequestChannel.officer
    )
    db.session.commit()
    return request.id


@pytest.mark.parametrize("language", ["en", "uk"])
def test_an_access_export_progress_bar_fills_to_100_percent_without_reload_then_shows_the_download(app, db, page, slow_worker, language):
    expect = _expect()
    pk = _verified_access_request(db)
    username = _officer(db, language)
    page.add_init_script(WATCH_BAR)

    login(page, username)
    page.goto(f"/privacyrequestview/show/{pk}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    with page.expect_navigation():
        page.locator(f"form[action='/privacyrequestview/process/{pk}'] button").click()
    expect(page.locator("#privacy-request")).to_have_attribute("data-status", "in_progress")

    seen = _watch_until_full(page)
    assert any(0 < value < 100 for value in seen), f"the bar jumped without showing progress: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"

    # Once full, the page shows the result by itself: the download, the completed status.
    expect(page.locator("a.privacy-download")).to_be_visible(timeout=10_000)
    expect(page.locator("#privacy-request")).to_have_attribute("data-status", "completed")
    expect(page.locator(".privacy-status")).to_have_text({"en": "Completed", "uk": "Виконано"}[language])
    page.watcher.assert_clean()


@pytest.mark.parametrize("language", ["en", "uk"])
def test_an_account_export_progress_bar_fills_to_100_percent_without_reload_then_offers_the_download(app, db, page, slow_worker, language):
    expect = _expect()
    account = make_account(db, language=language)
    for _ in range(20):
        make_car(db, account.dealer_id)
    db.session.commit()
    page.add_init_script(WATCH_BAR)

    login(page, account.admin)
    page.goto("/account/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    with page.expect_navigation():
        page.locator("form[action='/account/export'] button").click()
    expect(page.locator("#privacy-progress-bar")).to_be_attached()  # at 0 % it has no width

    seen = _watch_until_full(page)
    assert any(0 < value < 100 for value in seen), f"the bar jumped without showing progress: {seen}"

    row = page.locator(".account-export-row").first
    expect(row.locator("a.account-download")).to_have_text({"en": "Download", "uk": "Завантажити"}[language], timeout=10_000)
    expect(page.locator("#privacy-progress-bar")).to_have_count(0)
    page.watcher.assert_clean()
