"""Which language a person sees, their saved preference, and the time zone dates are
formatted in; no HTTP in here (jobs use it as well as requests).

The order (issue 5): a signed-in user's saved preference, then the language chosen in the
switcher, then the browser's ``Accept-Language``, then the default (English).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from flask_babel import refresh

from app.domain import DomainError

DEFAULT_LANGUAGE = "en"
FORCED_TIMEZONE = "forecourt_forced_timezone"  # g key: a job formats dates in this zone


def N_(text: str) -> str:
    """Mark ``text`` for extraction only; it is translated where it is shown.

    For plain strings that live where Babel is not set up yet (e.g. the privacy
    declarations of ``app.models.users``, which the security manager loads by path) and FAB's own messages.
    """
    return text


def choose_language(
    *,
    supported: Collection[str],
    saved: str | None = None,
    chosen: str | None = None,
    accepted: Iterable[str] = (),
    default: str = DEFAULT_LANGUAGE,
) -> str:
    """The first supported of: the saved preference, the switcher's choice, the browser's
    languages (best first, e.g. ``["de-AT", "de", "en"]``), the default."""
    for candidate in (saved, chosen):
        if candidate is not None and candidate in supported:
            return candidate
    for tag in accepted:
        code = normalise_tag(tag)
        if code in supported:
            return code
        base = code.split("_")[0]
        if base in supported:
            return base
    return default


def normalise_tag(tag: str | None) -> str:
    """``"de-AT"`` → ``"de_AT"``, ``"UK"`` → ``"uk"``: the form catalogues are named in."""
    parts = (tag or "").strip().replace("-", "_").split("_")
    return "_".join([parts[0].lower(), *(p.upper() for p in parts[1:])]) if parts[0] else ""


def check_language(language: str | None, supported: Collection[str]) -> str | None:
    """A preference to save: a supported code, or None for "no preference"."""
    if language in (None, ""):
        return None
    if language not in supported:
        raise DomainError(_l("Choose one of the offered languages."), "preferred_language")
    return language


def supported_languages() -> dict[str, dict[str, str]]:
    return current_app.config["LANGUAGES"]


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for select fields; a callable for WTForms."""
    return [(code, language["name"]) for code, language in supported_languages().items()]


def language_name(code: str | None) -> str:
    language = supported_languages().get(code or "")
    return language["name"] if language else ""


def user_language(user: Any | None) -> str:
    """The language to write to ``user`` in (mails, summaries): their saved preference."""
    saved = getattr(user, "preferred_language", None)
    return saved if saved in supported_languages() else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def force_timezone(name: str | None) -> Iterator[None]:
    """Format dates in ``name`` (e.g. a dealer's zone) inside the block; None: the default."""
    previous = g.get(FORCED_TIMEZONE)
    setattr(g, FORCED_TIMEZONE, name or current_app.config["DEFAULT_TIMEZONE"])
    refresh()
    try:
        yield
    finally:
        setattr(g, FORCED_TIMEZONE, previous)
        refresh()


def dealer_timezone(dealer: Any | None) -> str:
    return getattr(dealer, "timezone", None) or current_app.config["DEFAULT_TIMEZONE"]
