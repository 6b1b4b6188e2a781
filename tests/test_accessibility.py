"""Accessibility: axe-core (vendored from the npm registry, served by the app under
/static/vendor/axe-core/) finds no serious or critical violation on the main page of every
menu entry, for every role, in Chromium (issue 13 item 6).

Run alone: ``.venv/bin/python -m pytest -q tests/test_accessibility.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.browser_support")
from app.roles import DEALER_ADMIN
from tests.browser_support import axe_violations, login
from tests.factories import new_user

pytest_plugins = ["tests.browser_support"]

ROLES = ("admin", "staff", "privacy", "north-motors-admin", "north-motors-staff")
PUBLIC_PAGES = ("/privacy", "/privacy/subprocessors", "/privacy/request", "/d/north-motors/inquiry", "/login/")


def menu_pages(page) -> list[str]:
    hrefs = page.eval_on_selector_all(".navbar-nav:not(.navbar-right) a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        parts = urlsplit(href or "")
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or "/logout" in parts.path:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in paths:
            paths.append(path)
    return paths


def check(page, path: str, found: dict[str, list[str]]) -> None:
    response = page.goto(path)
    assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    problems = axe_violations(page)
    if problems:
        found[path] = problems


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


@pytest.mark.parametrize("language", ["en", "uk"])
def test_public_pages_have_no_serious_accessibility_violation(page, live_server, language):
    page.context.set_extra_http_headers({"Accept-Language": language})
    found: dict[str, list[str]] = {}
    for path in PUBLIC_PAGES:
        check(page, path, found)
    assert found == {}, report(found)


@pytest.mark.parametrize("username", ROLES)
def test_every_menu_page_has_no_serious_accessibility_violation(page, live_server, username):
    login(page, username)
    found: dict[str, list[str]] = {}
    check(page, "/", found)
    for path in menu_pages(page):
        check(page, path, found)
    assert found == {}, report(found)


@pytest.mark.parametrize("language", ["en", "uk"])
def test_pages_name_their_language_and_themselves(page, live_server, db, language):
    user = new_user(DEALER_ADMIN, "north-motors", language=language)
    login(page, user.username)
    expected = {"en": ("Cars", "Home"), "uk": ("Автомобілі", "Головна")}[language]
    page.goto("/carmodelview/list/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.title().startswith(expected[0] + " · ")
    page.goto("/")
    assert page.title().startswith(expected[1] + " · ")
    assert page.locator(".navbar-brand img").get_attribute("alt") == "Forecourt"
    assert page.locator("a.dropdown-toggle .language-name").inner_text() == {"en": "English", "uk": "Українська"}[language]


def test_a_skip_link_leads_past_the_menu_to_the_content(page, live_server):
    login(page, "north-motors-staff")
    page.goto("/carmodelview/list/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    skip.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"
