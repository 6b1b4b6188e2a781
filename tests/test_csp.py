"""The Content-Security-Policy runs no inline script but the nonced ones (issue 10).

The browser proof is ``tests/test_browser_csp.py``; these read the header and the HTML.
"""

from __future__ import annotations

import re

import pytest

NONCE_RE = re.compile(r"'nonce-([A-Za-z0-9_\-+/=]+)'")
SCRIPT_TAG_RE = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
EVENT_HANDLER_RE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL_RE = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
PAGES = {
    None: ["/", "/login/", "/privacy", "/privacy/request", "/d/north-motors/inquiry"],
    "admin": ["/", "/users/userinfo/", "/swagger/v1", "/carmodelview/list/", "/carmodelview/add"],
    "north-motors-admin": ["/carmodelview/list/", "/clientmodelview/list/", "/clientmodelview/add"],
    "privacy": ["/privacyrequestview/list/", "/privacyrequestview/add"],
}


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def script_nonce(response) -> str:
    script_src = directives(response.headers["Content-Security-Policy"])["script-src"]
    nonces = [NONCE_RE.fullmatch(value).group(1) for value in script_src if NONCE_RE.fullmatch(value)]
    assert len(nonces) == 1, script_src
    return nonces[0]


def test_script_src_has_no_unsafe_keyword_and_a_fresh_nonce_per_response(app, login):
    browser = login("north-motors-admin")
    first = browser.get("/carmodelview/list/")
    second = browser.get("/carmodelview/list/")
    for response in (first, second):
        assert response.status_code == 200 and response.mimetype == "text/html"
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["script-src"][0] == "'self'"
        assert not {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"} & set(policy["script-src"])
        assert "script-src-attr" not in policy and "script-src-elem" not in policy
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    nonces = {script_nonce(first), script_nonce(second)}
    assert len(nonces) == 2, "the same nonce twice"
    assert all(len(nonce) >= 22 for nonce in nonces)  # 128 bits or more, base64


def test_a_public_page_has_its_own_nonce_too(app):
    client = app.test_client()
    nonces = {script_nonce(client.get("/privacy")) for _ in range(3)}
    assert len(nonces) == 3


def test_the_nonce_is_fresh_even_when_requests_share_an_app_context(app, login, db):
    browser = login("privacy")  # ``db`` holds an app context: the requests share its ``g``
    nonces = [script_nonce(browser.get("/privacyrequestview/list/")) for _ in range(2)]
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("username", list(PAGES))
def test_every_script_on_a_page_carries_that_responses_nonce(app, login, username):
    """Inline or not, each <script> has the nonce; no onclick=… or javascript: anywhere."""
    browser = login(username)
    for path in PAGES[username]:
        response = browser.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        nonce = script_nonce(response)
        tags = SCRIPT_TAG_RE.findall(html)
        assert tags or username is None, f"{path}: no script at all?"  # public pages need none
        unnonced = [tag for tag in tags if f'nonce="{nonce}"' not in tag and "application/ld+json" not in tag]
        assert not unnonced, f"{path}: scripts without this response's nonce: {unnonced}"
        assert not EVENT_HANDLER_RE.search(html), f"{path}: {EVENT_HANDLER_RE.search(html).group(0)}"
        assert not JS_URL_RE.search(html), f"{path}: {JS_URL_RE.search(html).group(0)}"
