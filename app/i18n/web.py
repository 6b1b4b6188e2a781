"""Languages and time zones of the web app, wired into Flask-AppBuilder's Flask-Babel.

Which language (issue 5): an explicit ``?_l_=`` on the URL (FAB's convention, used by
its API and by links that must open in one language), then the signed-in user's saved
preference, then the switcher's choice (kept in the session: no cookie of its own), then
the browser's ``Accept-Language``, then English. Signing in applies the saved preference;
choosing a language in the switcher while signed in saves it.

Which time zone: the dealer's (``Dealer.timezone``) for its users; ``DEFAULT_TIMEZONE``
for internal staff and visitors; jobs pass the recipient's with :func:`force_timezone`.
"""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import get_babel, get_locale, refresh
from flask_login import user_logged_in

from app.extensions import csrf, db
from app.i18n.languages import (
    DEFAULT_LANGUAGE,
    FORCED_TIMEZONE,
    check_language,
    choose_language,
    language_name,
    supported_languages,
)
from app.models.users import DealerUser
from app.signed_in import signed_in_user

SESSION_KEY = "locale"  # FAB's own key: its navbar and LocaleView use it too
SWITCH_ENDPOINT = "LocaleView.index"  # FAB's /lang/<locale>


def init_app(app: Flask) -> None:
    """Replace FAB's locale selector, add the time zone selector, apply and save the
    user's preference, and give templates the active language."""
    babel = get_babel(app)
    babel.locale_selector = select_locale
    babel.timezone_selector = select_timezone
    user_logged_in.connect(apply_saved_language, app)
    _save_choice_of_signed_in_users(app)
    app.context_processor(_template_context)


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


# -- selectors (Flask-Babel calls them once per request; the answer is cached) -------------


def select_locale() -> str | None:
    if not has_request_context():
        return None  # a job: force_locale(recipient's language) decides
    supported = supported_languages()
    explicit = request.args.get("_l_")
    if explicit in supported:
        return explicit
    user = signed_in_user()
    return choose_language(
        supported=supported,
        saved=getattr(user, "preferred_language", None),
        chosen=session.get(SESSION_KEY),
        accepted=[tag for tag, _quality in request.accept_languages],
        default=current_app.config["BABEL_DEFAULT_LOCALE"],
    )


def select_timezone() -> str | None:
    forced = g.get(FORCED_TIMEZONE) if g else None
    if forced:
        return forced
    if has_request_context():
        dealer = getattr(signed_in_user(), "dealer", None)
        if dealer is not None and dealer.timezone:
            return dealer.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


# -- signing in and switching ------------------------------------------------------------------


def apply_saved_language(sender: Flask, user: Any, **extra: Any) -> None:
    """flask-login's ``user_logged_in``: the saved preference becomes the session's language."""
    saved = getattr(user, "preferred_language", None)
    if saved in supported_languages():
        session[SESSION_KEY] = saved
        refresh()


def remember_choice(language: str) -> None:
    """The switcher's choice: the session's language and, when signed in, the user's
    saved preference."""
    session[SESSION_KEY] = language
    user = signed_in_user()
    if user is not None and getattr(user, "preferred_language", None) != language:
        account = db.session.get(DealerUser, user.id)
        if account is not None:
            account.preferred_language = check_language(language, supported_languages())
        db.session.commit()
    refresh()


def safe_next(url: str | None) -> str | None:
    """A path on this site to go back to, or None (never another host)."""
    if not url or any(char < " " or char in "\\\x7f" for char in url):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" becomes "//evil.example"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return None
    return url


def _save_choice_of_signed_in_users(app: Flask) -> None:
    """FAB's switcher (``/lang/<locale>``) keeps the choice in the session; ours also saves
    it for a signed-in user and goes back to ``?next=`` (the public pages' switcher)."""
    switch = app.view_functions[SWITCH_ENDPOINT]

    @wraps(switch)
    def choose_language_view(locale: str):
        # A POST (app.auth makes the route POST-only). A signed-in user's choice is saved
        # with the account, so it needs the CSRF token; a visitor's lives in their own
        # session only, and their pages carry no token (reading them sets no cookie).
        if signed_in_user() is not None:
            csrf.protect()
        response = switch(locale=locale)  # 404 for a language we do not offer
        remember_choice(locale)
        back = safe_next(request.args.get("next"))
        return redirect(back) if back else response

    app.view_functions[SWITCH_ENDPOINT] = choose_language_view
    csrf.exempt(choose_language_view)


def switch_language_url(code: str) -> str:
    """The switcher's link: choose ``code``, then come back to this page (without any
    ``_l_`` of its own, which would win over the choice)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "_l_"]
    here = request.path + (f"?{urlencode(args)}" if args else "")
    return url_for(SWITCH_ENDPOINT, locale=code, next=here)


def _template_context() -> dict[str, Any]:
    return {
        "current_language": current_language,
        "language_name": language_name,
        "switch_language_url": switch_language_url,
    }
