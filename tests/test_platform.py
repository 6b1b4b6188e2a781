"""OpenAPI, migrations, the real queue, and the security basics."""

from __future__ import annotations

import secrets

import pytest

from app.api import ALL_APIS
from tests.queue_support import run_queue


def test_openapi_spec_builds_with_every_resource(api):
    spec = api("admin").get("/api/v1/_openapi")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for resource in ("dealer", "car", "client", "inquiry", "sale"):
        assert f"/api/v1/{resource}/" in paths


@pytest.mark.parametrize("api_cls", ALL_APIS, ids=lambda a: a.resource_name)
def test_every_api_builds_its_info_schema(api, api_cls):
    response = api("admin").get(f"/api/v1/{api_cls.resource_name}/_info")
    assert response.status_code == 200
    assert response.json["add_columns"] and response.json["edit_columns"]


def test_migrations_match_the_models(app):
    """The migrated schema (built by the fixture on an empty database) equals the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_a_job_runs_through_the_real_queue(app):
    from app.extensions import get_queue
    from jobs.housekeeping import clean_job_registries

    with app.app_context():
        queue = get_queue("test-platform")
        job = queue.enqueue(clean_job_registries, "test-platform", job_id="platform-check")
        run_queue(app, "test-platform")
        job.refresh()
        assert job.is_finished
        assert job.return_value() == 0


def test_cron_registers_its_jobs(app):
    from jobs.worker import build_cron

    with app.app_context():
        names = [job.name for job in build_cron(app).get_jobs()]
    assert "clean-job-registries" in names


def test_security_headers_and_cookies(app, login):
    browser = login("north-motors-admin")
    response = browser.get("/carmodelview/list/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_form_post_without_csrf_token_is_refused(app, login, db):
    from sqlalchemy import func, select

    from app.models import Client

    browser = login("north-motors-admin")
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = browser.client.post("/clientmodelview/add", data={"first_name": "No", "last_name": "Token"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


def test_delete_by_get_changes_nothing(app, login, db, dealer_ids):
    from sqlalchemy import select

    from app.models import Client

    client_id = db.session.scalar(select(Client.id).where(Client.dealer_id == dealer_ids["north-motors"]))
    login("north-motors-admin").get(f"/clientmodelview/delete/{client_id}")
    db.session.expire_all()
    assert db.session.get(Client, client_id) is not None


def _production_config(**overrides):
    """ProductionConfig's settings as a deployment that passes every check sets them."""
    from config import ProductionConfig

    config = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    config.update(SECRET_KEY=secrets.token_urlsafe(48), REDIS_URL="redis://redis.internal:6379/0", MAIL_SERVER=None)
    config.update(overrides)
    return config


def test_production_refuses_the_default_secret():
    from app.settings_check import InsecureConfiguration, check_production_settings
    from config import DEFAULT_SECRET_KEY, ProductionConfig

    config = _production_config()
    with pytest.raises(InsecureConfiguration):
        check_production_settings({**config, "SECRET_KEY": DEFAULT_SECRET_KEY})
    check_production_settings({**config, "SECRET_KEY": secrets.token_urlsafe(48)})
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize(
    "secret",
    ["a" * 36, "x" * 48, "abcdefghijklmnopqrstuvwxyz0123456789", "qwertyuiopasdfghjklzxcvbnm1234567890", "ab" * 24],
)
def test_production_secret_key_is_checked_for_entropy_not_length(secret):
    """Finding: 36 × "a" passed the length-only check."""
    from app.settings_check import InsecureConfiguration, check_production_settings

    config = _production_config()
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY is too weak"):
        check_production_settings({**config, "SECRET_KEY": secret})
    with pytest.raises(InsecureConfiguration, match="PRIVACY_LEDGER_KEY is too weak"):
        check_production_settings({**config, "SECRET_KEY": secrets.token_urlsafe(48), "PRIVACY_LEDGER_KEY": secret})


def test_production_refuses_to_start_without_redis_url():
    """Finding: production without REDIS_URL ran on the embedded Redis, one per process."""
    from app.settings_check import InsecureConfiguration, check_production_settings

    with pytest.raises(InsecureConfiguration, match="REDIS_URL is not set"):
        check_production_settings(_production_config(REDIS_URL=None))
    check_production_settings(_production_config())


@pytest.mark.parametrize("name", ["MAIL_DEFAULT_SENDER", "PRIVACY_OFFICER_EMAIL"])
def test_production_mail_refuses_the_example_addresses(name):
    """Finding: with MAIL_SERVER set, production mailed people from no-reply@forecourt.example
    and named privacy@forecourt.example as the officer to write to."""
    from app.settings_check import InsecureConfiguration, check_production_settings
    from config import Config

    mail_on = _production_config(
        MAIL_SERVER="smtp.internal", MAIL_DEFAULT_SENDER="Dealers <no-reply@dealers.test>", PRIVACY_OFFICER_EMAIL="dpo@dealers.test"
    )
    check_production_settings(mail_on)
    for placeholder in (getattr(Config, name), "someone@mail.forecourt.example", "", None, "Forecourt"):
        with pytest.raises(InsecureConfiguration, match=name):
            check_production_settings({**mail_on, name: placeholder})
    # Mail off: messages stay in the outbox, and the defaults do no harm.
    check_production_settings({**mail_on, "MAIL_SERVER": None, name: getattr(Config, name)})


def test_demo_password_is_detected(app):
    from app.settings_check import demo_password_in_use

    with app.app_context():
        weak = demo_password_in_use(app.appbuilder.sm.get_all_users())
    assert "admin" in weak


def test_forwarded_addresses_are_believed_only_from_trusted_proxies():
    from flask import Flask, request

    from app.http_security import trust_proxies

    def seen_address(trusted: int) -> str:
        app = Flask("proxy-check")
        app.config["TRUSTED_PROXIES"] = trusted
        app.add_url_rule("/ip", "ip", lambda: request.remote_addr)
        trust_proxies(app)
        client = app.test_client()
        headers = {"X-Forwarded-For": "203.0.113.9"}
        return client.get("/ip", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)

    assert seen_address(0) == "10.0.0.2"  # a visitor cannot forge their address
    assert seen_address(1) == "203.0.113.9"  # the proxy's header is believed
