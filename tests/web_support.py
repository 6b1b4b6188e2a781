"""Forms through the test client: the CSRF token of a page, a signed-in ``Browser`` that
posts forms like a person does, and the options of a page's selects."""

from __future__ import annotations

import re

from config import DEMO_PASSWORD

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def token_from(html: str) -> str:
    """The CSRF token of a page's form."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def csrf_token(client, url: str = "/login/") -> str:
    html = client.get(url).get_data(as_text=True)
    assert CSRF_RE.search(html), f"no CSRF token on {url}"
    return token_from(html)


class Browser:
    """A logged-in test client that sends the CSRF token like a real form would."""

    def __init__(self, client, username: str | None):
        self.client = client
        self.username = username

    def login(self, password: str = DEMO_PASSWORD):
        token = csrf_token(self.client)
        return self.client.post("/login/", data={"username": self.username, "password": password, "csrf_token": token})

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post_form(self, url, data: dict, form_url: str | None = None, **kw):
        data = dict(data)
        data["csrf_token"] = csrf_token(self.client, form_url or url)
        return self.client.post(url, data=data, **kw)


def select_options(html: str) -> dict[str, set[int]]:
    """The numeric option values of each ``<select>`` of a page, by its name."""
    options = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.DOTALL):
        options[name] = {int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', body)}
    return options
