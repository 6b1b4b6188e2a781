"""Single-line text and web addresses as people type them.

A business name or a person's name ends up in e-mail subjects and headers: a line break
there splits the header (and every mail carrying it fails), so such fields refuse control
characters at the point of entry. A website is shown as a link: only http(s) addresses,
never ``javascript:`` or ``data:``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from app.domain import DomainError

# C0 and C1 control characters (CR, LF, TAB, NUL ...), DEL and the Unicode line and
# paragraph separators: none belongs in a single line of text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
WEB_SCHEMES = ("http", "https")


def has_control_characters(value: str | None) -> bool:
    return value is not None and CONTROL_CHARACTERS.search(value) is not None


def single_line(value: str | None, field: str | None = None) -> str | None:
    """``value`` unchanged, or ``DomainError`` when it holds a line break or another
    control character."""
    if has_control_characters(value):
        raise DomainError(_l("Use a single line of text, without line breaks or control characters."), field)
    return value


def one_line(value: str | None) -> str:
    """Defence in depth where text becomes a header: control characters become spaces."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value or "").split())


def web_address(value: str | None, field: str | None = "website") -> str | None:
    """An absolute http:// or https:// address (None when empty); ``DomainError`` for any
    other scheme (``javascript:``, ``data:`` ...), no host, spaces or control characters."""
    value = (value or "").strip()
    if not value:
        return None
    if not _is_web_address(value):
        raise DomainError(_l("Enter a web address that starts with http:// or https://, e.g. https://www.example.com."), field)
    return value


def _is_web_address(value: str) -> bool:
    if has_control_characters(value) or re.search(r"\s", value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:  # e.g. an invalid port or IPv6 literal
        return False
