"""Only essential cookies: every page, signed out and signed in as each demo role, sets
no cookie but the session cookie (and the language cookie, if one is configured), and
the session cookie is HttpOnly and SameSite.

The crawl is generated from ``app.url_map``: every GET route without arguments, and a
sample of routes with arguments (show and edit pages and REST items with a demo row's
id, dealer pages with a demo slug). A new page is covered without touching this file.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.domain.grants import ADMIN, DEALER_ADMIN, DEALER_STAFF, PRIVACY_OFFICER, STAFF
from config import DEMO_PASSWORD, ProductionConfig
from tests.factories import new_user
from tests.web_support import Browser, csrf_token

ROLES = [(ADMIN, None), (STAFF, None), (PRIVACY_OFFICER, None), (DEALER_ADMIN, "north-motors"), (DEALER_STAFF, "north-motors")]
# GET routes left out of the crawl: signing out is checked on its own below (it would
# end the crawl's session); these either change state or need a secret token.
SKIPPED_METHODS = {"delete", "action", "action_post", "download", "export"}
SKIPPED_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "AuthDBView.logout",
    "LocaleView.index",
    "UserStatsChartView.chart",
}
SAMPLE_VALUES = {"slug": "north-motors", "version": "v1"}


def allowed_cookies(app) -> set[str]:
    names = {app.config.get("SESSION_COOKIE_NAME") or "session"}
    if app.config.get("LANGUAGE_COOKIE_NAME"):
        names.add(app.config["LANGUAGE_COOKIE_NAME"])
    return names


def cookies_set(response) -> list[tuple[str, set[str]]]:
    """(name, lower-cased attributes) of every Set-Cookie header of ``response``."""
    found = []
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        found.append((first.split("=", 1)[0], {a.lower().replace(" ", "") for a in attributes}))
    return found


def problems(app, response, what: str) -> list[str]:
    """What is wrong with the cookies ``response`` sets (empty: nothing)."""
    wrong = []
    session_name = app.config.get("SESSION_COOKIE_NAME") or "session"
    for name, attributes in cookies_set(response):
        if name not in allowed_cookies(app):
            wrong.append(f"{what} sets the cookie {name!r}")
        if name == session_name:
            if "httponly" not in attributes:
                wrong.append(f"{what}: the session cookie is not HttpOnly")
            if not any(a.startswith("samesite=") and a != "samesite=none" for a in attributes):
                wrong.append(f"{what}: the session cookie has no SameSite=Lax/Strict")
    return wrong


def _sample_pk(app, db, endpoint: str) -> str | None:
    """The id of a demo row of the model behind ``endpoint``'s view, if it has one."""
    view_name = endpoint.split(".", 1)[0]
    view = next((v for v in app.appbuilder.baseviews if type(v).__name__ == view_name), None)
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None:
        return None
    column = getattr(datamodel.obj, datamodel.get_pk_name())
    pk = db.session.scalar(select(column).order_by(column).limit(1))
    return None if pk is None else str(pk)


def crawl_urls(app, db) -> list[str]:
    """Every GET route without arguments, plus a sample of those with arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if rule.endpoint.rsplit(".", 1)[-1] in SKIPPED_METHODS or "token" in rule.arguments:
            continue
        values = {}
        for argument in rule.arguments:
            value = _sample_pk(app, db, rule.endpoint) if argument == "pk" else SAMPLE_VALUES.get(argument)
            if value is None:
                break
            values[argument] = value
        else:
            urls.append(rule.build(values, append_unknown=False)[1])
    urls += ["/privacy?version=1", "/login/?next=/privacy"]
    return sorted(set(urls))


def crawl(app, db, browser: Browser, who: str) -> list[str]:
    found = []
    for url in crawl_urls(app, db):
        try:
            response = browser.get(url)
        except Exception as error:  # noqa: BLE001  (a crash is reported with its page, not hidden)
            found.append(f"{url} as {who} raised {type(error).__name__}: {error}")
            continue
        found += problems(app, response, f"GET {url} as {who} ({response.status_code})")
    return found


def signed_in(app, username: str) -> tuple[Browser, list[str]]:
    """Sign in through the login form, checking the cookies of the page and the POST."""
    browser = Browser(app.test_client(), username)
    found = problems(app, browser.get("/login/"), "GET /login/")
    response = browser.login()
    assert response.status_code == 302, f"login of {username} failed"
    found += problems(app, response, f"POST /login/ as {username}")
    return browser, found


def test_the_crawl_covers_the_pages(app, db):
    urls = crawl_urls(app, db)
    for expected in (
        "/privacy",
        "/privacy/subprocessors",
        "/privacy/request",
        "/login/",
        "/carmodelview/list/",
        "/policyversions/list/",
        "/api/v1/car/",
    ):
        assert expected in urls, expected
    assert any(url.startswith("/carmodelview/show/") for url in urls)
    dealer_pages = [r.rule for r in app.url_map.iter_rules() if r.arguments == {"slug"} and "GET" in r.methods]
    assert all(rule.replace("<slug>", "north-motors") in urls for rule in dealer_pages)
    assert any(url.startswith("/api/v1/client/") and url.rstrip("/").split("/")[-1].isdigit() for url in urls)


def test_anonymous_visitors_get_only_essential_cookies(app, db):
    assert crawl(app, db, Browser(app.test_client(), None), "anonymous") == []


@pytest.mark.parametrize("role, dealer_slug", ROLES)
def test_signed_in_users_get_only_essential_cookies(app, db, role, dealer_slug):
    username = new_user(role, dealer_slug).username  # its own: the language switch below is saved
    browser, found = signed_in(app, username)
    found += crawl(app, db, browser, username)
    home = "/userinfoeditview/form"  # any signed-in page: its navbar carries the CSRF token
    found += problems(app, browser.post_form("/lang/de", {}, form_url=home), f"POST /lang/de as {username}")
    found += problems(app, browser.post_form("/lang/en", {}, form_url=home), f"POST /lang/en as {username}")
    found += problems(app, browser.post_form("/logout/", {}, form_url=home), f"POST /logout/ as {username}")
    assert found == []


def test_failed_logins_language_switch_api_login_and_public_forms_set_only_essential_cookies(app, db):
    client = app.test_client()
    found = problems(app, client.post("/lang/uk"), "POST /lang/uk anonymous")
    token = csrf_token(client)
    found += problems(
        app,
        client.post(
            "/login/",
            data={
                "username": "admin",
                "password": "wrong-password",
                "csrf_token": token,
            },
        ),
        "POST /login/ with a wrong password",
    )
    found += problems(
        app,
        client.post(
            "/api/v1/security/login",
            json={"username": "admin", "password": DEMO_PASSWORD, "provider": "db"},
        ),
        "POST /api/v1/security/login",
    )
    form = Browser(app.test_client(), None)
    response = form.post_form(
        "/privacy/request",
        {
            "request_type": "access",
            "dealer": "platform",
            "email": f"cookie-{uuid.uuid4().hex[:8]}@example.org",
            "name": "",
            "phone": "",
            "details": "",
        },
    )
    assert response.status_code == 200 and "reference" in response.get_data(as_text=True)
    found += problems(app, response, "POST /privacy/request")
    inquiry = form.post_form(
        "/d/north-motors/inquiry",
        {
            "name": "Cookie Visitor",
            "email": f"cookie-{uuid.uuid4().hex[:8]}@example.org",
            "phone": "",
            "message": "Is it still available?",
            "privacy_notice": "y",
            "marketing": "y",
        },
    )
    assert inquiry.status_code == 200, inquiry.status_code
    found += problems(app, inquiry, "POST /d/north-motors/inquiry")
    withdrawal = form.post_form("/d/north-motors/marketing", {"email": "nobody@example.org"})
    assert withdrawal.status_code == 200, withdrawal.status_code
    found += problems(app, withdrawal, "POST /d/north-motors/marketing")
    assert found == []


def test_the_session_cookie_is_httponly_samesite_and_secure_in_production(app):
    _browser, found = signed_in(app, "staff")
    assert found == []
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")


def test_pages_carry_the_cookie_notice(app, login):
    for browser, url in (
        (Browser(app.test_client(), None), "/privacy/request"),
        (login("staff"), "/"),
    ):
        html = browser.get(url).get_data(as_text=True)
        assert 'class="cookie-notice' in html and 'href="/privacy#cookies"' in html, url


def test_the_check_itself_catches_a_tracking_cookie_and_a_weak_session_cookie(app):
    from flask import Response

    response = Response("x")
    response.set_cookie("_ga", "GA1.1.123")
    response.set_cookie("session", "abc", httponly=False)
    with app.test_request_context("/"):
        found = problems(app, response, "a bad page")
    assert any("'_ga'" in problem for problem in found)
    assert any("not HttpOnly" in problem for problem in found)
    assert any("SameSite" in problem for problem in found)
