"""Authentication rules (OWASP ASVS 4.0.3 level 2): throttled sign-in, the password policy,
session and token lifetimes, and state changes only by CSRF-protected POST."""

from __future__ import annotations

from flask import Flask
from flask_login import user_logged_in

from app.auth.sessions import register_session_rules, start_session

# FAB's GET routes that change state, made POST-only (CSRF-protected like every form).
POST_ONLY_ENDPOINTS = ("LocaleView.index",)


def init_app(app: Flask) -> None:
    user_logged_in.connect(start_session, app)
    register_session_rules()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in POST_ONLY_ENDPOINTS:
            rule.methods = {"POST"}
