"""Browser test harness: the session ``app`` served live, Debian's Chromium via Playwright.

Registered as a plugin by ``tests/test_browser.py`` (``pytest_plugins``); the fixtures
are ``live_server``, ``browser`` and ``page``. Every page a test opens is watched: a JS
error, a console error, a Content-Security-Policy violation (an inline script or event
handler without the nonce), a failed or external request, an unexpected HTTP error status
(a 404 on /static/... included) or an error logged by the app fails the test.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from config import DEMO_PASSWORD

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Each page reports its CSP violations to the test through an exposed binding.
CSP_BINDING = "forecourtCspViolation"
CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", function (e) {{
  window.{CSP_BINDING}([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber,
                        (e.sample || "").slice(0, 80)].join(" | "));
}});
"""
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    return os.environ.get("FORECOURT_CHROMIUM") or DEFAULT_CHROMIUM


def _require_chromium() -> str:
    """The Chromium binary; missing: a failure on CI, a skip elsewhere."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    message = f"Chromium not found or not executable at {path!r} (install Debian's 'chromium' package or set FORECOURT_CHROMIUM)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need Chromium on CI: {message}", pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------- server


class _ErrorLogCollector(logging.Handler):
    """Keeps what the app logs at ERROR or above while the live server runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[0].__name__}: {record.exc_info[1]}"
        self.records.append(text)


@dataclass
class LiveServer:
    url: str
    app_errors: _ErrorLogCollector

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:
    """The session app on 127.0.0.1 and a free port, in a threaded background server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    collector = _ErrorLogCollector()
    app.logger.addHandler(collector)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app_errors=collector)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.logger.removeHandler(collector)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    executable = _require_chromium()
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        message = f"could not launch Chromium at {executable!r}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@dataclass
class PageWatcher:
    """Collects everything on a page that should not happen."""

    origin: str
    app_errors: _ErrorLogCollector
    problems: list[str] = field(default_factory=list)
    allowed: set[tuple[str, int]] = field(default_factory=set)
    _app_errors_seen: int = 0
    _reported: int = 0

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"JS exception on {page.url}: {exc}"))
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)
        page.expose_binding(CSP_BINDING, lambda source, text: self._on_csp_violation(source["page"], text))
        page.add_init_script(CSP_LISTENER)
        self._app_errors_seen = len(self.app_errors.records)

    def allow_status(self, path: str, status: int) -> None:
        """An HTTP error the test expects (e.g. the 404 of another dealer's car)."""
        self.allowed.add((path, status))

    def _is_allowed(self, url: str, status: int) -> bool:
        return (urlsplit(url).path, status) in self.allowed

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource"):
            # The matching response is judged in _on_response (which knows the status).
            return
        self.problems.append(f"console error at {url or '?'}: {msg.text}")

    def _on_csp_violation(self, page, text: str) -> None:
        self.problems.append(f"CSP violation on {page.url}: {text}")

    def _on_request(self, request) -> None:
        if not request.url.startswith(self.origin) and not request.url.startswith(("data:", "blob:", "about:")):
            self.problems.append(f"request to another origin (CDN?): {request.url}")

    def _on_request_failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure and "/static/" not in request.url:
            return  # a navigation that replaced a pending one
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _on_response(self, response) -> None:
        status = response.status
        if status < 400 or self._is_allowed(response.url, status):
            return
        kind = "asset load failed" if "/static/" in response.url else "HTTP error"
        self.problems.append(f"{kind}: {status} for {response.request.method} {response.url}")

    def collect(self) -> list[str]:
        new_app_errors = self.app_errors.records[self._app_errors_seen :]
        return self.problems + [f"app logged an error: {text}" for text in new_app_errors]

    def take_unreported(self) -> list[str]:
        problems = self.collect()[self._reported :]
        self._reported += len(problems)
        return problems

    def assert_clean(self) -> None:
        """Fail on every problem not reported yet (each problem fails a test once)."""
        problems = _counted(self.take_unreported())
        assert not problems, "browser saw problems:\n  " + "\n  ".join(problems)


def _expect_timeout(milliseconds: int) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=milliseconds)


def _counted(problems: list[str]) -> list[str]:
    """Each distinct problem once, with how often it happened."""
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem] = counts.get(problem, 0) + 1
    return [f"{p} (x{n})" if n > 1 else p for p, n in counts.items()]


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page on the live server; fails on console/asset errors."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    _expect_timeout(TIMEOUT_MS)  # expect()'s own default is 5 s: too short on a loaded 2-core machine
    new_page = context.new_page()
    watcher = PageWatcher(origin=live_server.url, app_errors=live_server.app_errors)
    watcher.attach(new_page)
    new_page.watcher = watcher
    try:
        yield new_page
    finally:
        context.close()
    watcher.assert_clean()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that failed on its own: show the page's problems with that failure."""
    report = yield
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    watcher = getattr(page, "watcher", None)
    if report.when == "call" and report.failed and watcher is not None:
        problems = watcher.take_unreported()
        if problems:
            report.sections.append(("browser problems", "\n".join(_counted(problems))))
    return report


# --------------------------------------------------------------------------- actions


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, like a person."""
    from playwright.sync_api import expect

    page.goto("/login/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign In").click()
    if urlsplit(page.url).path == "/login/":
        alerts = page.locator(".alert").all_inner_texts()
        pytest.fail(f"login of {username!r} refused: {alerts}", pytrace=False)
    expect(page.locator("button[data-logout]")).to_be_attached()


def logout(page) -> None:
    """Sign out through the user menu."""
    from playwright.sync_api import expect

    page.locator("a.dropdown-toggle", has=page.locator(".fa-user")).click()
    with page.expect_navigation():
        page.locator("button[data-logout]").click()
    expect(page.locator("button[data-logout]")).to_have_count(0)


def choose_select2(page, select_id: str, option_text: str) -> None:
    """Pick an option of a select2 widget by clicking it open and clicking the option."""
    container = page.locator(f"#{select_id} + .select2-container")
    container.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-results__option", has_text=option_text).first.click()
    from playwright.sync_api import expect

    expect(container.locator(".select2-selection__rendered")).to_have_attribute("title", option_text)


def filter_list(page, column_label: str, value: str) -> None:
    """Open the list's Search panel, add a filter on a column, search."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Search", exact=True).click()
    panel = page.locator("#accordion1_href")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Add Filter").click()
    panel.locator("ul.dropdown-menu a.filter", has_text=column_label).click()
    value_input = panel.locator("table.filters input.filter_val").last
    value_input.fill(value)
    with page.expect_navigation():
        panel.get_by_role("button", name="Search").click()


AXE = "/static/vendor/axe-core/axe.min.js"  # axe-core from the npm registry, served by the app


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the open page; one line per violation of these impacts, naming up to
    three of the elements it found."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        source = page.request.get(AXE)
        assert source.ok, f"{AXE} answered {source.status}"
        page.evaluate(source.text())  # evaluated by the test, not by the page: no CSP exception needed
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in impacts:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            lines.append(f"{violation['impact']} {violation['id']} ({len(violation['nodes'])}×: {targets})")
    return lines
