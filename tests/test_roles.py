"""The role matrix: what each role may and may not reach (DESIGN.md, Roles)."""

from __future__ import annotations

import pytest

from tests.web_support import select_options

ALLOWED, DENIED = "allowed", "denied"

PAGES = {
    "/carmodelview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": ALLOWED,
    },
    "/carcostview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": DENIED,
    },
    "/clientmodelview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": ALLOWED,
    },
    "/inquirymodelview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": ALLOWED,
    },
    "/salemodelview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": ALLOWED,
    },
    "/dealerprofileview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": DENIED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": DENIED,
    },
    "/dealermodelview/list/": {
        "admin": ALLOWED,
        "staff": ALLOWED,
        "privacy": ALLOWED,
        "north-motors-admin": DENIED,
        "north-motors-staff": DENIED,
    },
    "/dealermodelview/add": {
        "admin": ALLOWED,
        "staff": ALLOWED,
        "privacy": DENIED,
        "north-motors-admin": DENIED,
        "north-motors-staff": DENIED,
    },
    "/users/list/": {"admin": ALLOWED, "staff": ALLOWED, "privacy": DENIED, "north-motors-admin": ALLOWED, "north-motors-staff": DENIED},
    "/roles/list/": {"admin": ALLOWED, "staff": DENIED, "privacy": DENIED, "north-motors-admin": DENIED, "north-motors-staff": DENIED},
    "/privacyrequestview/list/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": ALLOWED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": DENIED,
    },
    "/privacyrequestview/add": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": ALLOWED,
        "north-motors-admin": ALLOWED,
        "north-motors-staff": DENIED,
    },
    "/recordofprocessing/": {
        "admin": ALLOWED,
        "staff": DENIED,
        "privacy": ALLOWED,
        "north-motors-admin": DENIED,
        "north-motors-staff": DENIED,
    },
}

APIS = {
    "/api/v1/car/": {"admin": 200, "staff": 403, "privacy": 403, "north-motors-admin": 200, "north-motors-staff": 200},
    "/api/v1/car_cost/": {"admin": 200, "staff": 403, "privacy": 403, "north-motors-admin": 200, "north-motors-staff": 403},
    "/api/v1/client/": {"admin": 200, "staff": 403, "privacy": 403, "north-motors-admin": 200, "north-motors-staff": 200},
    "/api/v1/inquiry/": {"admin": 200, "staff": 403, "privacy": 403, "north-motors-admin": 200, "north-motors-staff": 200},
    "/api/v1/sale/": {"admin": 200, "staff": 403, "privacy": 403, "north-motors-admin": 200, "north-motors-staff": 200},
    "/api/v1/dealer/": {"admin": 200, "staff": 200, "privacy": 200, "north-motors-admin": 403, "north-motors-staff": 403},
    "/api/v1/privacy_request/": {"admin": 200, "staff": 403, "privacy": 200, "north-motors-admin": 200, "north-motors-staff": 403},
}

CASES = [(url, user, expected) for url, row in PAGES.items() for user, expected in row.items()]
API_CASES = [(url, user, expected) for url, row in APIS.items() for user, expected in row.items()]


@pytest.mark.parametrize("url,username,expected", CASES)
def test_page_access(login, url, username, expected):
    response = login(username).get(url)
    if expected == ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
        assert response.status_code != 200


@pytest.mark.parametrize("url,username,expected", API_CASES)
def test_api_access(api, url, username, expected):
    assert api(username).get(url).status_code == expected


@pytest.mark.parametrize("url", list(PAGES))
def test_anonymous_is_sent_to_login(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", list(APIS))
def test_anonymous_api_is_unauthorised(app, url):
    assert app.test_client().get(url).status_code == 401


def test_dealer_staff_never_sees_costs_on_a_car(app, db, login, dealer_ids):
    from sqlalchemy import select

    from app.models import Car

    car_id = db.session.scalar(select(Car.id).where(Car.dealer_id == dealer_ids["north-motors"]))
    staff_page = login("north-motors-staff").get(f"/carmodelview/show/{car_id}").get_data(as_text=True)
    admin_page = login("north-motors-admin").get(f"/carmodelview/show/{car_id}").get_data(as_text=True)
    assert "carcostview" in admin_page.lower()
    assert "carcostview" not in staff_page.lower()


def test_dealer_admin_cannot_hand_out_internal_roles(app, db, login):
    from sqlalchemy import select

    from app.models.users import DealerUser

    browser = login("north-motors-admin")
    html = browser.get("/users/add").get_data(as_text=True)
    admin_role = app.appbuilder.sm.find_role("Admin")
    offered = select_options(html)["roles"]
    assert offered and admin_role.id not in offered
    response = browser.post_form(
        "/users/add",
        {
            "first_name": "Eve",
            "last_name": "X",
            "username": "eve-escalates",
            "email": "eve@example.com",
            "active": "y",
            "roles": [str(admin_role.id)],
            "password": "long-enough-pw",
            "conf_password": "long-enough-pw",
        },
        form_url="/users/add",
    )
    assert response.status_code in (200, 302)
    assert db.session.scalar(select(DealerUser).where(DealerUser.username == "eve-escalates")) is None


def test_role_sync_is_idempotent(app):
    from app.roles import sync_roles

    with app.app_context():
        first = sync_roles(app.appbuilder)
        assert sync_roles(app.appbuilder) == first
