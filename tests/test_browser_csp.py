"""The Content-Security-Policy forbids inline scripts but nonced ones, and the app still
works under it in a real browser (Debian's Chromium through Playwright), issue 10.

Every watched page fails its test on a CSP violation or a JS error (``tests/browser_support.py``).
Run alone: ``.venv/bin/python -m pytest -q tests/test_browser_csp.py``.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from tests.browser_support import choose_select2, filter_list, login

pytest_plugins = ["tests.browser_support"]

ROLES = ("admin", "staff", "privacy", "north-motors-admin", "north-motors-staff")
PUBLIC_PAGES = ("/privacy", "/privacy/subprocessors", "/privacy/request", "/d/north-motors/inquiry")
PROFILE = ("/users/userinfo/", "/userinfoeditview/form", "/resetmypassword/form")
SWAGGER = "/swagger/v1"
CAR_LIST = "/carmodelview/list/"


def _expect():
    from playwright.sync_api import expect

    return expect


def _open(page, path: str, refusable: bool = False) -> None:
    """Open a page like a person; an HTTP error status is a failure of its own, except the
    grant rule's 403 on a ``refusable`` page (Staff opening an Admin's account)."""
    if refusable:
        page.watcher.allow_status(urlsplit(path).path, 403)
    response = page.goto(path)
    ok = response is not None and (response.status < 400 or (refusable and response.status == 403))
    assert ok, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")


def _hrefs(page, selector: str) -> list[str]:
    """The same-origin paths (with query) of the links matching ``selector``, in page order."""
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        parts = urlsplit(href or "")
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in paths:
            paths.append(path)
    return paths


def _menu_entries(page) -> list[str]:
    return [p for p in _hrefs(page, ".navbar-nav:not(.navbar-right) a[href]") if "/logout" not in p]


def _record_pages(page, list_path: str) -> list[str]:
    """The list's first show and edit pages and its add form (same view only)."""
    base = list_path.split("/list", 1)[0] + "/"
    found = []
    for kind in ("show/", "edit/", "add"):
        links = [p for p in _hrefs(page, f'a[href^="{base}{kind}"]') if p.startswith(base + kind)]
        if links:
            found.append(links[0])
    return found


def _check_swagger(page) -> None:
    expect = _expect()
    _open(page, SWAGGER)
    # Swagger UI is built by an inline (nonced) script: it ran when the spec is rendered.
    expect(page.locator("#swagger-ui .information-container .title")).to_be_visible()
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_opens_runs_without_csp_violations(page, username):
    login(page, username)
    _open(page, "/")
    menu = _menu_entries(page)
    assert menu, f"{username} has no menu"
    visited = {"/"}
    records: list[str] = []
    for path in menu:
        if path in visited:
            continue
        visited.add(path)
        _open(page, path)
        if "/list" in path:
            records += _record_pages(page, path)
    for path in records:
        if path not in visited:
            visited.add(path)
            _open(page, path, refusable=path.startswith("/users/edit/"))
    assert any("/show/" in p for p in visited), f"{username}: no show page reached from {menu}"
    assert any(re.search(r"/(add|edit/)", p) for p in visited), f"{username}: no form reached from {menu}"
    for path in PROFILE:
        _open(page, path)
    _check_swagger(page)
    for path in PUBLIC_PAGES:
        _open(page, path)
    page.watcher.assert_clean()


@pytest.mark.browser
def test_public_pages_run_without_csp_violations_signed_out(page):
    for path in ("/", "/login/", *PUBLIC_PAGES):
        _open(page, path)
    page.watcher.assert_clean()


@pytest.mark.browser
def test_the_scripted_bits_still_work_under_the_policy(page):
    """Bootstrap menus, select2, the list's action checkboxes, the confirmation modals,
    the search panel and Swagger UI."""
    expect = _expect()
    login(page, "north-motors-admin")

    # The language switcher: a Bootstrap drop-down, opened by bootstrap.min.js.
    switcher = page.locator(".navbar-right li.dropdown", has=page.locator("i.flag")).first
    switcher.locator(".dropdown-toggle").click()
    expect(switcher.locator(".dropdown-menu")).to_be_visible()
    switcher.locator(".dropdown-toggle").click()

    # select2 on the car form.
    _open(page, "/carmodelview/add")
    choose_select2(page, "fuel", "Diesel")

    # The list's check-all box ticks every row (ab_actions.js, started by a nonced script).
    _open(page, CAR_LIST)
    checks = page.locator("input.action_check")
    expect(checks.first).to_be_visible()
    page.locator("input.action_check_all").click()
    assert checks.count() > 0
    for index in range(checks.count()):
        expect(checks.nth(index)).to_be_checked()
    expect(page.locator("table tr.success").first).to_be_visible()

    # A bulk action asks for confirmation in the modal; cancelling changes nothing.
    page.get_by_role("button", name="Actions").click()
    page.locator("a.publish_menu_item").click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-text")).to_contain_text("Publish the selected cars")
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()

    # A row's delete button opens the confirmation modal (the handler is a nonced script).
    page.locator("a.confirm[id^='btn-delete-']").first.click()
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-body")).to_contain_text("Are you sure you want to delete this item?")
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert urlsplit(page.url).path == CAR_LIST

    # The list's search panel (ab_filters.js, set up by a nonced script).
    filter_list(page, "Stock no.", "NO-SUCH-STOCK-NUMBER")
    expect(page.get_by_text("No records found")).to_be_visible()

    # Swagger UI answers clicks: an operation opens.
    _check_swagger(page)
    page.locator("#swagger-ui .opblock-summary").first.click()
    expect(page.locator("#swagger-ui .opblock-body").first).to_be_visible()

    page.watcher.assert_clean()


def _set_progress(app, pk: int, done: int, status=None) -> None:
    from app.extensions import db
    from app.models import PrivacyRequest

    with app.app_context():
        item = db.session.get(PrivacyRequest, pk)
        item.progress_done = done
        if status is not None:
            item.status = status
        db.session.commit()
        db.session.remove()


@pytest.mark.browser
def test_the_privacy_request_progress_bar_polls_under_the_policy(app, page):
    """privacy-progress.js (a served file) polls the status and moves the bar."""
    from app.extensions import db
    from app.models import RequestChannel, RequestStatus, RequestType
    from app.privacy.requests import intake

    expect = _expect()
    with app.app_context():
        item = intake.file_request(
            db.session,
            request_type=RequestType.access,
            email=f"csp-progress-{uuid.uuid4().hex[:8]}@example.org",
            channel=RequestChannel.officer,
        )
        item.status = RequestStatus.in_progress
        item.phase = "collecting"
        item.progress_done, item.progress_total = 3, 12
        db.session.commit()
        pk = item.id
        db.session.remove()
    try:
        login(page, "privacy")
        _open(page, f"/privacyrequestview/show/{pk}")
        bar = page.locator("#privacy-progress-bar")
        expect(bar).to_have_attribute("aria-valuenow", "25")  # rendered by the server
        _set_progress(app, pk, 6)
        expect(bar).to_have_attribute("aria-valuenow", "50", timeout=10_000)  # polled by the script
        expect(page.locator("#privacy-progress-text")).to_contain_text("6 / 12")
    finally:
        _set_progress(app, pk, 12, RequestStatus.cancelled)  # closed: no reconciler picks it up
    page.watcher.assert_clean()
