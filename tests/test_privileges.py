"""Who may grant what (issue 10, item 1): a generated matrix of every role × every
user-management route × every kind of target account, plus the findings replayed.

The expected outcomes are written out here, independently of ``app.domain.grants``.
Every editor and target is a fresh account, so each case owns its rows.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.provisioning import create_user
from config import DEMO_PASSWORD
from tests.web_support import Browser

ROLES = ("Admin", "Staff", "PrivacyOfficer", "DealerAdmin", "DealerStaff")
# Editors and targets: (role, dealer slug or None).
EDITORS = {
    "Admin": ("Admin", None),
    "Staff": ("Staff", None),
    "PrivacyOfficer": ("PrivacyOfficer", None),
    "DealerAdmin": ("DealerAdmin", "north-motors"),
    "DealerStaff": ("DealerStaff", "north-motors"),
}
TARGETS = {
    "Admin": ("Admin", None),
    "Staff": ("Staff", None),
    "PrivacyOfficer": ("PrivacyOfficer", None),
    "own DealerAdmin": ("DealerAdmin", "north-motors"),
    "own DealerStaff": ("DealerStaff", "north-motors"),
    "other DealerStaff": ("DealerStaff", "south-cars"),
}
# Whose account each editor may change, deactivate, reset the password of, or delete.
MANAGES = {
    "Admin": set(TARGETS),
    "Staff": {"Staff", "own DealerAdmin", "own DealerStaff", "other DealerStaff"},
    "PrivacyOfficer": set(),
    "DealerAdmin": {"own DealerAdmin", "own DealerStaff"},
    "DealerStaff": set(),
}
# Which roles each editor may give to a new user (a dealer role comes with the editor's
# own dealer for a dealer admin, north-motors for internal editors).
GRANTS = {
    "Admin": set(ROLES),
    "Staff": {"Staff", "DealerAdmin", "DealerStaff"},
    "PrivacyOfficer": set(),
    "DealerAdmin": {"DealerAdmin", "DealerStaff"},
    "DealerStaff": set(),
}
# Who can see another dealer's users at all (a dealer admin gets a 404 for them).
SEES_OTHER_DEALERS = {"Admin", "Staff", "PrivacyOfficer"}


def _new_user(role: str, slug: str | None, prefix: str):
    tag = uuid.uuid4().hex[:8]
    return create_user(
        f"{prefix}-{tag}", DEMO_PASSWORD, f"{prefix}-{tag}@example.org", role, slug, "Pat", f"{prefix.title()}{tag}", check_policy=False
    )


def _signed_in(app, user) -> Browser:
    browser = Browser(app.test_client(), user.username)
    assert browser.login().status_code == 302
    return browser


def _state(db, user_id: int):
    from app.models.users import DealerUser

    db.session.expire_all()
    user = db.session.get(DealerUser, user_id)
    if user is None:
        return None
    return (user.first_name, user.active, tuple(sorted(r.name for r in user.roles)), user.dealer_id, user.password)


def _edit_form(app, db, user_id: int, **changes) -> dict:
    from app.models.users import DealerUser

    user = db.session.get(DealerUser, user_id)
    form = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "active": "y" if user.active else "",
        "roles": [str(r.id) for r in user.roles],
        "dealer": str(user.dealer_id) if user.dealer_id else "__None",
        "preferred_language": "",
    }
    form.update(changes)
    if not form["active"]:
        del form["active"]
    return form


def _role_ids(app, *names: str) -> list[str]:
    return [str(app.appbuilder.sm.find_role(name).id) for name in names]


def _post(browser: Browser, url: str, data: dict):
    """POST with the CSRF token of the editor's own profile page (every editor has one)."""
    return browser.post_form(url, data, form_url="/userinfoeditview/form")


@pytest.mark.parametrize("target_kind", TARGETS)
@pytest.mark.parametrize("editor_kind", EDITORS)
def test_privilege_matrix(app, db, editor_kind, target_kind):
    editor = _new_user(*EDITORS[editor_kind], "editor")
    target = _new_user(*TARGETS[target_kind], "target")
    browser = _signed_in(app, editor)
    allowed = target_kind in MANAGES[editor_kind]
    hidden = editor_kind not in SEES_OTHER_DEALERS and TARGETS[target_kind][1] != "north-motors"

    def attempt(url: str, data: dict, changed) -> None:
        before = _state(db, target.id)
        response = _post(browser, url, data)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        after = _state(db, target.id)
        if allowed:
            assert changed(before, after), f"{editor_kind} should be able to {url} a {target_kind}"
        else:
            assert after == before, f"{editor_kind} changed a {target_kind} through {url}"
            if hidden:  # a dealer admin: no such user; a dealer's staff: no permission at all
                assert response.status_code == (404 if editor_kind == "DealerAdmin" else 403)

    # Edit a plain field, deactivate, reset the password: allowed exactly when it manages.
    attempt(f"/users/edit/{target.id}", _edit_form(app, db, target.id, first_name="Changed"), lambda b, a: a[0] == "Changed")
    attempt(f"/users/edit/{target.id}", _edit_form(app, db, target.id, active=""), lambda b, a: a[1] is False)
    attempt(
        f"/resetpassword/form?pk={target.id}",
        {"password": "plum tractor velvet orbit", "conf_password": "plum tractor velvet orbit"},
        lambda b, a: a[4] != b[4],
    )
    # Promote to Admin (an Admin: demote to Staff), dealer cleared: only an Admin may.
    new_role = "Staff" if target_kind == "Admin" else "Admin"
    before = _state(db, target.id)
    _post(browser, f"/users/edit/{target.id}", _edit_form(app, db, target.id, roles=_role_ids(app, new_role), dealer="__None"))
    changed = _state(db, target.id)[2] == (new_role,)
    assert changed == (editor_kind == "Admin"), f"{editor_kind} making a {target_kind} {new_role}"
    if not changed:
        assert _state(db, target.id) == before
    # Delete last.
    before = _state(db, target.id)
    response = _post(browser, f"/users/delete/{target.id}", {})
    assert response.status_code < 500
    assert (_state(db, target.id) is None) == allowed, f"{editor_kind} deleting a {target_kind}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("editor_kind", EDITORS)
def test_who_may_create_which_role(app, db, editor_kind, role):
    from app.models import Dealer
    from app.models.users import DealerUser

    editor = _new_user(*EDITORS[editor_kind], "creator")
    browser = _signed_in(app, editor)
    north = db.session.scalar(select(Dealer.id).where(Dealer.slug == "north-motors"))
    username = f"made-{uuid.uuid4().hex[:8]}"
    form = {
        "first_name": "New",
        "last_name": "Person",
        "username": username,
        "email": f"{username}@example.org",
        "active": "y",
        "roles": _role_ids(app, role),
        "dealer": str(north) if role in ("DealerAdmin", "DealerStaff") else "__None",
        "preferred_language": "",
        "password": "plum tractor velvet orbit",
        "conf_password": "plum tractor velvet orbit",
    }
    response = _post(browser, "/users/add", form)
    assert response.status_code < 500
    made = db.session.scalar(select(DealerUser).where(DealerUser.username == username))
    assert (made is not None) == (role in GRANTS[editor_kind]), f"{editor_kind} creating a {role}"
    if made is not None:
        assert [r.name for r in made.roles] == [role]


@pytest.mark.parametrize("editor_kind", EDITORS)
def test_nobody_raises_their_own_privileges(app, db, editor_kind):
    """Finding: a Staff user edited its own account on /users/edit/<id> and added
    PrivacyOfficer, then downloaded any dealer's client exports."""
    editor = _new_user(*EDITORS[editor_kind], "self")
    browser = _signed_in(app, editor)
    before = _state(db, editor.id)
    for extra in ("PrivacyOfficer", "Admin"):
        roles = sorted({*before[2], extra})
        response = _post(browser, f"/users/edit/{editor.id}", _edit_form(app, db, editor.id, roles=_role_ids(app, *roles)))
        assert response.status_code < 500
        assert _state(db, editor.id) == before
    response = _post(browser, f"/users/delete/{editor.id}", {})
    assert _state(db, editor.id) == before


def test_staff_cannot_make_itself_privacy_officer_and_is_told_why(app, db):
    """A forged role id (not offered in the drop-down) is an error, not silently dropped."""
    editor = _new_user("Staff", None, "staff")
    browser = _signed_in(app, editor)
    form = _edit_form(app, db, editor.id, roles=_role_ids(app, "Staff", "PrivacyOfficer"))
    response = _post(browser, f"/users/edit/{editor.id}", form)
    page = browser.get(response.headers.get("Location", f"/users/edit/{editor.id}")).get_data(as_text=True)
    assert response.status_code == 302 and "You cannot give this role." in page and "Changed Row" not in page
    assert _state(db, editor.id)[2] == ("Staff",)
    # Not through the privacy requests either: the officer's exports stay out of reach.
    assert browser.get("/privacyrequestview/list/").status_code == 403


def test_staff_cannot_demote_remail_or_delete_an_admin(app, db):
    """Finding: Staff could demote, re-mail or delete Admin accounts."""
    editor = _new_user("Staff", None, "staff")
    admin = _new_user("Admin", None, "admin")
    browser = _signed_in(app, editor)
    before = _state(db, admin.id)
    for changes in ({"roles": _role_ids(app, "Staff")}, {"email": "taken-over@example.org"}):
        response = _post(browser, f"/users/edit/{admin.id}", _edit_form(app, db, admin.id, **changes))
        assert response.status_code == 403
        assert "You cannot change this account." in response.get_data(as_text=True)
    assert browser.get(f"/users/edit/{admin.id}").status_code == 403
    assert browser.get(f"/resetpassword/form?pk={admin.id}").status_code == 403
    _post(browser, f"/users/delete/{admin.id}", {})
    assert _state(db, admin.id) == before


def test_a_dealer_admin_cannot_change_its_own_roles(app, db):
    editor = _new_user("DealerAdmin", "north-motors", "selfrole")
    browser = _signed_in(app, editor)
    response = _post(browser, f"/users/edit/{editor.id}", _edit_form(app, db, editor.id, roles=_role_ids(app, "DealerStaff")))
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot change your own roles." in page
    assert _state(db, editor.id)[2] == ("DealerAdmin",)


def test_a_dealer_admin_cannot_save_a_user_without_a_dealer(app, db):
    """Finding: a DealerAdmin saved a user with the "__None" dealer, who dropped out of
    the admin's reach but could still sign in."""
    from app.models import Dealer
    from app.models.users import DealerUser

    editor = _new_user("DealerAdmin", "north-motors", "dadmin")
    target = _new_user("DealerStaff", "north-motors", "dstaff")
    browser = _signed_in(app, editor)
    north = db.session.scalar(select(Dealer.id).where(Dealer.slug == "north-motors"))
    _post(browser, f"/users/edit/{target.id}", _edit_form(app, db, target.id, dealer="__None", first_name="Still"))
    assert _state(db, target.id)[3] == north
    username = f"nodealer-{uuid.uuid4().hex[:8]}"
    form = {
        "first_name": "No",
        "last_name": "Dealer",
        "username": username,
        "email": f"{username}@example.org",
        "active": "y",
        "roles": _role_ids(app, "DealerStaff"),
        "dealer": "__None",
        "password": "plum tractor velvet orbit",
        "conf_password": "plum tractor velvet orbit",
    }
    _post(browser, "/users/add", form)
    made = db.session.scalar(select(DealerUser).where(DealerUser.username == username))
    assert made is not None and made.dealer_id == north


def _options(page: str, select_id: str) -> list[str]:
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert block, f"no select #{select_id}"
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", block.group(1), re.DOTALL)]


@pytest.mark.parametrize("editor_kind", ["Admin", "Staff", "DealerAdmin"])
def test_the_role_drop_down_offers_only_what_the_editor_may_grant(app, db, editor_kind):
    """Finding: the role drop-down offered roles the editor does not hold."""
    editor = _new_user(*EDITORS[editor_kind], "dropdown")
    page = _signed_in(app, editor).get("/users/add").get_data(as_text=True)
    assert set(_options(page, "roles")) == GRANTS[editor_kind]


def test_the_users_list_dealer_filter_lists_only_the_own_dealer(app, db):
    """Finding: the users list's dealer filter drop-down listed every dealer's name."""
    from app.models import Dealer

    editor = _new_user("DealerAdmin", "north-motors", "filter")
    page = _signed_in(app, editor).get("/users/list/").get_data(as_text=True)
    north = db.session.scalar(select(Dealer).where(Dealer.slug == "north-motors"))
    south = db.session.scalar(select(Dealer).where(Dealer.slug == "south-cars"))
    assert str(north) in page
    assert str(south) not in page


@pytest.mark.parametrize("editor_kind", ["Staff", "PrivacyOfficer", "DealerAdmin", "DealerStaff"])
@pytest.mark.parametrize(
    "route",
    ["/roles/list/", "/roles/add", "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/", "/groups/list/", "/groups/add"],
)
def test_only_an_admin_reaches_roles_permissions_and_groups(app, db, editor_kind, route):
    from flask_appbuilder.security.sqla.models import Role

    editor = _new_user(*EDITORS[editor_kind], "perm")
    browser = _signed_in(app, editor)
    assert browser.get(route).status_code == 403  # FAB: access denied
    name = f"Sneaky{uuid.uuid4().hex[:6]}"
    _post(browser, route, {"name": name}) if route.endswith("/add") else None
    assert db.session.scalar(select(Role).where(Role.name == name)) is None


def test_create_user_applies_the_grant_rule(app):
    runner = app.test_cli_runner()
    tag = uuid.uuid4().hex[:8]
    base = ["forecourt", "create-user", "--email", f"g-{tag}@example.org", "--password", "plum tractor velvet orbit"]
    result = runner.invoke(args=[*base, "--username", f"g-{tag}", "--role", "DealerStaff"])
    assert result.exit_code == 1 and "A dealer user needs a dealer." in result.output
    result = runner.invoke(args=[*base, "--username", f"g-{tag}", "--role", "Staff", "--dealer", "north-motors"])
    assert result.exit_code == 1 and "Internal staff do not belong to a dealer." in result.output
