"""The Forecourt application factory: a table of contents of register_* steps."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from config import Config


def create_app(config: type[Config] | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from a config class (default: ``FORECOURT_CONFIG``) plus overrides."""
    from config import config_from_env  # not at import time: config.py reads app.domain.periods

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config or config_from_env())
    if overrides:
        app.config.update(overrides)
    check_production_config(app)
    register_logging(app)
    register_model_events(app)
    register_change_history(app)
    register_extensions(app)
    register_languages(app)
    with app.app_context():
        register_views(app)
    register_blueprints(app)
    register_security_headers(app)
    register_authentication(app)
    register_usage_log(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def check_production_config(app: Flask) -> None:
    """Refuse to run in production with a default secret or demo passwords."""
    from app.settings_check import check_production_settings

    check_production_settings(app.config)


def register_logging(app: Flask) -> None:
    """Log with a request id on every line and no personal data."""
    from app.logging import configure_logging

    configure_logging(app)


def register_model_events(app: Flask) -> None:
    """The rules every flush and commit obeys (app.model_events), installed once per process."""
    from app import model_events

    model_events.register_model_events()


def register_change_history(app: Flask) -> None:
    """Who changed which field of a dealer's record, when (app.change_history), after every flush."""
    from app import change_history

    change_history.register_change_history()


def register_extensions(app: Flask) -> None:
    """Bind SQLAlchemy, migrations, CSRF and Flask-AppBuilder to the app."""
    from sqlalchemy.engine import make_url

    from app.extensions import appbuilder, csrf, db, enforce_foreign_keys, migrate

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no instance/
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            enforce_foreign_keys(engine)  # before anything connects
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    with app.app_context():
        appbuilder.init_app(app, db.session)


def register_languages(app: Flask) -> None:
    """Language (user preference, switcher, Accept-Language) and time zone of each request."""
    from app.i18n import web as i18n

    i18n.init_app(app)


def register_views(app: Flask) -> None:
    """Add the CRUD views, the REST APIs and the menu."""
    from app.api import register_apis
    from app.i18n.localised import localise_views
    from app.views import close_file_downloads, register_model_views

    register_model_views(app.extensions["appbuilder"])
    register_apis(app.extensions["appbuilder"])
    localise_views(app.extensions["appbuilder"])  # last: every view is added by now
    close_file_downloads(app.extensions["appbuilder"])


def register_blueprints(app: Flask) -> None:
    """Public pages (no login); the dealers' public listings (no cookie, cacheable)."""
    from app.public.blueprint import public_bp
    from app.public.listing import listing_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(listing_bp)


def register_security_headers(app: Flask) -> None:
    """CSP without any CDN or inline script but nonced ones, no sniffing, no framing,
    strict referrer; trusted proxies."""
    from app.http_security import add_security_headers, install_csp_nonce, trust_proxies

    install_csp_nonce(app)
    app.after_request(add_security_headers)
    trust_proxies(app)


def register_authentication(app: Flask) -> None:
    """Session versions and timeouts, and POST-only state changes (language switch)."""
    from app import auth

    auth.init_app(app)


def register_usage_log(app: Flask) -> None:
    """Log each HTML page a signed-in user opens (usage data, kept 90 days)."""
    from app.usage_tracking import install_usage_log

    install_usage_log(app)


def register_errorhandlers(app: Flask) -> None:
    """Error pages that never show a stack trace or personal data."""
    from app.errors import register_error_pages

    register_error_pages(app)


def register_template_helpers(app: Flask) -> None:
    """Locale-aware money, number, date, time and enum-label filters for templates."""
    from app.domain import formatting, periods
    from app.domain.enum_labels import enum_label, phase_label

    app.jinja_env.filters["money"] = formatting.format_money
    app.jinja_env.filters["localdatetime"] = formatting.format_datetime
    app.jinja_env.filters["localdate"] = formatting.format_date
    app.jinja_env.filters["localtime"] = formatting.format_time
    app.jinja_env.filters["number"] = formatting.format_number
    app.jinja_env.filters["ago"] = formatting.format_relative
    app.jinja_env.filters["label"] = enum_label
    app.jinja_env.filters["phase"] = phase_label
    app.jinja_env.globals["periods"] = periods  # the promised periods, e.g. periods.BUSINESS_RECORD_YEARS


def register_commands(app: Flask) -> None:
    """The ``flask forecourt …`` command group."""
    from app.cli import forecourt

    app.cli.add_command(forecourt)


logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
