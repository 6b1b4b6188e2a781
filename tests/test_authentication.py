"""Sign-in to OWASP ASVS 4.0.3 level 2: throttled logins, one password policy, sessions and
tokens that end, state changes only by CSRF-protected POST (issue 10, item 2)."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from app.auth import sessions
from config import DEMO_PASSWORD
from tests.factories import OTHER_STRONG, STRONG
from tests.web_support import Browser, csrf_token


@pytest.fixture
def user(app, db):
    """A fresh DealerStaff of north-motors, password DEMO_PASSWORD."""
    from app.provisioning import create_user

    tag = uuid.uuid4().hex[:8]
    made = create_user(f"auth-{tag}", DEMO_PASSWORD, f"auth-{tag}@example.org", "DealerStaff", "north-motors", check_policy=False)
    return made.username, made.id


def _client(app, address: str | None = None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


def _api_login(client, username: str, password: str, refresh: bool = False):
    body = {"username": username, "password": password, "provider": "db", "refresh": refresh}
    return client.post("/api/v1/security/login", json=body)


def _html_login(client, username: str, password: str):
    return client.post("/login/", data={"username": username, "password": password, "csrf_token": csrf_token(client)})


def _signed_in(client) -> bool:
    response = client.get("/carmodelview/list/")
    return response.status_code == 200


@pytest.fixture
def strict_throttle(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes")
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_CLIENT", "20 per 15 minutes")


# -- throttling ----------------------------------------------------------------------------


def test_api_login_is_throttled_after_wrong_passwords_then_the_right_one_fails(app, user, strict_throttle):
    """Finding: 30 wrong passwords in 15 s on the API login, then the right one worked."""
    username, _ = user
    for _attempt in range(5):
        assert _api_login(_client(app), username, "wrong password here").status_code == 401
    response = _api_login(_client(app), username, DEMO_PASSWORD)
    assert response.status_code == 429
    assert response.json == {"message": "Too many failed sign-in attempts. Wait a few minutes and try again."}
    assert int(response.headers["Retry-After"]) == 900
    assert "access_token" not in response.json


def test_html_login_is_throttled_per_account_across_clients(app, user, strict_throttle):
    username, _ = user
    for _attempt in range(5):
        _html_login(_client(app), username, "wrong password here")
    client = _client(app)
    response = _html_login(client, username, DEMO_PASSWORD)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert not _signed_in(client)
    page = client.get("/login/").get_data(as_text=True)
    assert "Too many failed sign-in attempts" in page


def test_the_throttle_answers_the_same_for_an_account_that_does_not_exist(app, user, strict_throttle):
    username, _ = user
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    answers = {}
    for name in (username, ghost):
        seen = []
        for _attempt in range(6):
            response = _api_login(_client(app), name, "wrong password here")
            seen.append((response.status_code, response.json))
        answers[name] = seen
    assert answers[username] == answers[ghost]
    assert [code for code, _ in answers[ghost]] == [401] * 5 + [429]


def test_login_is_throttled_per_client_across_accounts(app, strict_throttle):
    client = _client(app, "10.250.1.1")
    for attempt in range(20):
        assert _api_login(client, f"nobody-{attempt}-{uuid.uuid4().hex[:6]}", "wrong password here").status_code == 401
    assert _api_login(client, "admin", DEMO_PASSWORD).status_code == 429
    assert _api_login(_client(app, "10.250.1.2"), "admin", DEMO_PASSWORD).status_code == 200


def test_a_right_password_clears_the_account_count(app, user, strict_throttle):
    username, _ = user
    for _round in range(3):
        for _attempt in range(4):
            _api_login(_client(app), username, "wrong password here")
        assert _api_login(_client(app), username, DEMO_PASSWORD).status_code == 200


def test_the_throttle_stores_no_username_or_address(app, user, strict_throttle):
    username, _ = user
    _api_login(_client(app, "10.251.7.7"), username, "wrong password here")
    storage = app.appbuilder.sm.limiter.storage
    keys = " ".join(str(key) for key in getattr(storage, "storage", {}))
    assert keys and username not in keys and "10.251.7.7" not in keys


# -- the password policy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x", "Use at least 12 characters."),
        ("short pass", "Use at least 12 characters."),
        ("y" * 129, "Use at most 128 characters."),
        ("password1234", "This password is known from data breaches. Choose another one."),
        ("demo-password", "This password is known from data breaches. Choose another one."),
        ("aaaaaaaaaaaaaaaa", "This password is too easy to guess."),
        ("123456789012345", "This password is too easy to guess."),
    ],
)
def test_the_password_policy_refuses(app, password, message):
    from app.domain.passwords import WeakPassword, check_password

    with app.test_request_context(), pytest.raises(WeakPassword) as refused:
        check_password(password)
    assert str(refused.value.message).startswith(message)


def test_the_password_policy_refuses_the_users_own_name_and_accepts_passphrases(app):
    from app.domain.passwords import WeakPassword, check_password

    with app.test_request_context():
        with pytest.raises(WeakPassword, match="name, username or e-mail"):
            check_password("marta-kowalska-2024!", ["mkowalska", "marta.kowalska@example.org"])
        check_password(STRONG)
        check_password("ä ö ü — Straßenbahn fährt 🚋")  # any characters, spaces included
        check_password("harbour lights " * 8 + "fog")  # 123 characters: long is fine


def test_a_one_character_password_is_refused_on_users_add(app, db, login):
    """Finding: a 1-character password was accepted on /users/add."""
    from app.models.users import DealerUser

    browser = login("admin")
    username = f"weak-{uuid.uuid4().hex[:8]}"
    staff_role = app.appbuilder.sm.find_role("Staff")
    form = {
        "first_name": "Weak",
        "last_name": "Password",
        "username": username,
        "active": "y",
        "email": f"{username}@example.org",
        "roles": [str(staff_role.id)],
        "password": "x",
        "conf_password": "x",
    }
    response = browser.post_form("/users/add", form)
    assert response.status_code == 200
    assert "Use at least 12 characters." in response.get_data(as_text=True)
    assert db.session.scalar(select(DealerUser).where(DealerUser.username == username)) is None
    response = browser.post_form("/users/add", {**form, "password": STRONG, "conf_password": STRONG})
    assert response.status_code == 302
    assert db.session.scalar(select(DealerUser).where(DealerUser.username == username)) is not None


def test_resetmypassword_needs_the_current_password_and_the_policy(app, db, user):
    """Finding: /resetmypassword/form accepted a 1-character password and no current one."""
    from app.models.users import DealerUser

    username, user_id = user
    browser = Browser(_client(app), username)
    assert browser.login().status_code == 302
    before = db.session.get(DealerUser, user_id).password
    for data, error in (
        ({"password": "x", "conf_password": "x"}, "This field is required."),
        ({"current_password": "not my password!", "password": STRONG, "conf_password": STRONG}, "This is not your current password."),
        ({"current_password": DEMO_PASSWORD, "password": "x", "conf_password": "x"}, "Use at least 12 characters."),
    ):
        response = browser.post_form("/resetmypassword/form", data)
        assert response.status_code == 200 and error in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(DealerUser, user_id).password == before
    response = browser.post_form("/resetmypassword/form", {"current_password": DEMO_PASSWORD, "password": STRONG, "conf_password": STRONG})
    assert response.status_code == 302
    assert app.appbuilder.sm.auth_user_db(username, STRONG) is not None


def test_the_admins_password_reset_applies_the_policy(app, db, login, user):
    from app.models.users import DealerUser

    username, user_id = user
    browser = login("admin")
    url = f"/resetpassword/form?pk={user_id}"
    before = db.session.get(DealerUser, user_id).password
    response = browser.post_form(url, {"password": "password1234", "conf_password": "password1234"})
    assert response.status_code == 200 and "known from data breaches" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DealerUser, user_id).password == before
    assert browser.post_form(url, {"password": STRONG, "conf_password": STRONG}).status_code == 302
    assert app.appbuilder.sm.auth_user_db(username, STRONG) is not None


def test_create_user_applies_the_policy_and_refuses_the_demo_password(app):
    """Finding: create-user accepted the demo password in production."""
    runner = app.test_cli_runner()
    tag = uuid.uuid4().hex[:8]
    base = ["forecourt", "create-user", "--username", f"cli-{tag}", "--email", f"cli-{tag}@example.org", "--role", "Staff"]
    for weak, message in ((DEMO_PASSWORD, "known from data breaches"), ("short", "Use at least 12 characters.")):
        result = runner.invoke(args=[*base, "--password", weak])
        assert result.exit_code == 1 and message in result.output
    result = runner.invoke(args=[*base, "--password", STRONG])
    assert result.exit_code == 0, result.output


# -- sessions and tokens end -------------------------------------------------------------


def _cookie_jar(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_session_cookie_does_not_work_after_logout(app, user):
    """Finding: a copied session cookie still worked after logout."""
    username, _ = user
    browser = Browser(_client(app), username)
    browser.login()
    stolen = _cookie_jar(browser.client)
    other = Browser(_client(app), username)
    other.login()
    assert _signed_in(_replay(app, stolen))
    response = browser.post_form("/logout/", {}, form_url="/userinfoeditview/form")
    assert response.status_code == 302
    assert not _signed_in(_replay(app, stolen))
    assert not _signed_in(other.client)  # logout ends every session of the user


def test_logout_and_language_switch_are_posts_with_csrf(app, db, user):
    """Finding: GET /lang/<code> saved a preference and GET /logout/ signed out."""
    from app.models.users import DealerUser

    username, user_id = user
    browser = Browser(_client(app), username)
    browser.login()
    assert browser.get("/logout/").status_code == 405
    assert browser.get("/lang/de").status_code == 405
    assert browser.client.post("/logout/").status_code == 400  # no CSRF token
    assert browser.client.post("/lang/de").status_code == 400
    assert _signed_in(browser.client)
    db.session.expire_all()
    assert db.session.get(DealerUser, user_id).preferred_language is None
    page = browser.get("/carmodelview/list/").get_data(as_text=True)
    assert '<form method="post" action="/logout/"' in page
    assert '<form method="post" action="/lang/de' in page


def test_tokens_do_not_work_after_logout(app, user):
    """Finding: a JWT (and its 30-day refresh token) still worked after logout."""
    username, _ = user
    tokens = _api_login(_client(app), username, DEMO_PASSWORD, refresh=True).json
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    client = _client(app)
    assert client.get("/api/v1/car/", headers=access).status_code == 200
    browser = Browser(_client(app), username)
    browser.login()
    browser.post_form("/logout/", {}, form_url="/userinfoeditview/form")
    assert client.get("/api/v1/car/", headers=access).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    assert app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds() == 12 * 3600


def test_a_password_change_keeps_this_session_and_ends_every_other(app, user):
    """Finding: sessions and tokens survived a password change."""
    username, _ = user
    token = _api_login(_client(app), username, DEMO_PASSWORD).json["access_token"]
    elsewhere = Browser(_client(app), username)
    elsewhere.login()
    browser = Browser(_client(app), username)
    browser.login()
    data = {"current_password": DEMO_PASSWORD, "password": STRONG, "conf_password": STRONG}
    assert browser.post_form("/resetmypassword/form", data).status_code == 302
    assert _signed_in(browser.client)
    assert not _signed_in(elsewhere.client)
    assert _client(app).get("/api/v1/car/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "role", "admin_password_reset"])
def test_deactivation_role_change_and_password_reset_end_the_users_sessions(app, db, user, change):
    from app.models.users import DealerUser

    username, user_id = user
    token = _api_login(_client(app), username, DEMO_PASSWORD).json["access_token"]
    browser = Browser(_client(app), username)
    browser.login()
    target = db.session.get(DealerUser, user_id)
    if change == "deactivate":
        target.active = False
    elif change == "role":
        target.roles = [app.appbuilder.sm.find_role("DealerAdmin")]
    else:
        app.appbuilder.sm.reset_password(user_id, OTHER_STRONG)
    db.session.commit()
    assert not _signed_in(browser.client)
    assert _client(app).get("/api/v1/car/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_unrelated_change_keeps_the_users_sessions(app, db, user):
    from app.models.users import DealerUser

    username, user_id = user
    browser = Browser(_client(app), username)
    browser.login()
    db.session.get(DealerUser, user_id).first_name = "Renamed"
    db.session.commit()
    assert _signed_in(browser.client)


@pytest.mark.parametrize(("key", "age"), [(sessions.SEEN_AT, 31 * 60), (sessions.SIGNED_IN_AT, 12 * 3600 + 60)])
def test_idle_and_absolute_session_timeouts(app, user, key, age):
    username, _ = user
    browser = Browser(_client(app), username)
    browser.login()
    assert _signed_in(browser.client)
    with browser.client.session_transaction() as stored:
        stored[key] = int(time.time()) - age
    response = browser.get("/carmodelview/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert "Your session has expired. Sign in again." in browser.get("/login/").get_data(as_text=True)


def test_a_recent_request_keeps_the_session_alive(app, user):
    username, _ = user
    browser = Browser(_client(app), username)
    browser.login()
    with browser.client.session_transaction() as stored:
        stored[sessions.SEEN_AT] = int(time.time()) - 29 * 60
    assert _signed_in(browser.client)
    with browser.client.session_transaction() as stored:
        assert int(time.time()) - stored[sessions.SEEN_AT] < 5
