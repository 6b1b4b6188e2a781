"""Every demo user signs in through the HTML form and the API."""

import pytest

DEMO_USERS = [
    "admin",
    "staff",
    "privacy",
    "north-motors-admin",
    "north-motors-staff",
    "south-cars-admin",
    "south-cars-staff",
]


@pytest.mark.parametrize("username", DEMO_USERS)
def test_demo_user_signs_in_through_the_form(login, username):
    browser = login(username)
    page = browser.get("/")
    assert page.status_code == 200
    assert "Logout" in page.get_data(as_text=True) or "logout" in page.get_data(as_text=True)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_demo_user_gets_a_jwt(api, username):
    client = api(username)
    assert client.get("/api/v1/security/csrf_token/").status_code in (200, 401, 404)


def test_wrong_password_is_refused(app):
    from tests.web_support import csrf_token

    client = app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": "nope", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert client.get("/carmodelview/list/").status_code in (302, 401)
