"""Saved views through HTTP: save a list's state under a name, reopen it, share it within
the dealer, delete it; what a list does not offer is refused and nothing is saved; another
dealer's view is a 404."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from app.domain.grants import DEALER_ADMIN, DEALER_STAFF, PRIVACY_OFFICER
from app.models import SavedView
from tests.factories import make_car, new_dealer, new_user, uid

CARS = "/carmodelview/list/"
SAVE = "/savedviews/save"
V = "CarModelView"


@pytest.fixture
def team(db, login):
    """Two users of one dealer (signed in), and a user of another dealer."""
    dealer = new_dealer(db)
    other = new_dealer(db)
    alice = new_user(DEALER_STAFF, dealer.slug)
    bob = new_user(DEALER_ADMIN, dealer.slug)
    eve = new_user(DEALER_ADMIN, other.slug)
    return dealer, login(alice.username), login(bob.username), login(eve.username)


def save(browser, name: str, query: str, shared: bool = False, list_name: str = V):
    data = {"list_name": list_name, "name": name, "query": query}
    if shared:
        data["shared"] = "y"
    return browser.post_form(SAVE, data, form_url=CARS)


def count_views(db, name: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SavedView).where(SavedView.name == name))


def view_named(db, name: str) -> SavedView:
    db.session.expire_all()
    return db.session.scalars(select(SavedView).where(SavedView.name == name)).one()


def test_a_saved_view_reopens_the_list_with_its_search_filters_sort_and_columns(db, team):
    dealer, alice, _, _ = team
    tag = uid().upper()
    car = make_car(db, dealer.id, stock_number=f"S-{tag}-1", make="Skoda")
    db.session.commit()
    query = f"q={tag}&_flt_0_make=Skoda&_oc_{V}=asking_price_display&_od_{V}=desc&cols=stock_number&cols=make&page_{V}=2"
    response = save(alice, f"Skodas {tag}", query)
    assert response.status_code == 302
    assert "q=" in response.headers["Location"]
    saved = view_named(db, f"Skodas {tag}")
    assert dict(parse_qsl(saved.query)) == {
        "q": tag,
        "_flt_0_make": "Skoda",
        f"_oc_{V}": "asking_price_display",
        f"_od_{V}": "desc",
        "cols": "stock_number,make",
    }
    assert saved.shared is False and saved.dealer_id == dealer.id
    listing = alice.get("/savedviews/list/").get_data(as_text=True)
    assert f"Skodas {tag}" in listing and f"/savedviews/open/{saved.id}" in listing
    opened = alice.get(f"/savedviews/open/{saved.id}")
    assert opened.status_code == 302
    target = urlsplit(opened.headers["Location"])
    assert target.path == CARS and dict(parse_qsl(target.query)) == dict(parse_qsl(saved.query))
    html = alice.get(opened.headers["Location"]).get_data(as_text=True)
    assert car.stock_number in html and "Mileage" not in html[html.index("<thead>") : html.index("</thead>")]
    # The list offers it among its saved views.
    assert f"/savedviews/open/{saved.id}" in alice.get(CARS).get_data(as_text=True)


def test_saving_under_the_same_name_replaces_the_view(db, team):
    _, alice, _, _ = team
    name = f"Mine {uid()}"
    save(alice, name, "q=one")
    save(alice, name, "q=two")
    assert count_views(db, name) == 1
    assert view_named(db, name).query == "q=two"


@pytest.mark.parametrize(
    "query",
    ["_flt_0_no_such_column=x", "_flt_7_year=2020", f"_oc_{V}=no_such_column", f"_od_{V}=sideways", "cols=secret", "q=" + "x" * 101],
)
def test_a_view_with_what_the_list_does_not_offer_is_refused_and_nothing_saved(db, team, query):
    _, alice, _, _ = team
    name = f"Bad {uid()}"
    response = save(alice, name, query)
    assert response.status_code == 302
    assert count_views(db, name) == 0
    flashed = alice.get(CARS).get_data(as_text=True)
    assert "This view cannot be saved" in flashed or "at most 100 characters" in flashed


def test_a_view_needs_a_name_and_a_list_the_user_may_open(db, team):
    _, alice, _, _ = team
    assert save(alice, "   ", "q=x").status_code == 302
    assert "Give the view a name." in alice.get(CARS).get_data(as_text=True)
    # DealerStaff may not list costs; an unknown list is no list.
    assert save(alice, f"Costs {uid()}", "", list_name="CarCostView").status_code == 404
    assert save(alice, f"None {uid()}", "", list_name="NoSuchView").status_code == 404


def test_a_shared_view_is_seen_by_the_dealers_other_users_and_never_by_another_dealer(db, team):
    _, alice, bob, eve = team
    name = f"Shared {uid()}"
    private = f"Private {uid()}"
    save(alice, name, "q=golf", shared=True)
    save(alice, private, "q=polo")
    shared_view, private_view = view_named(db, name), view_named(db, private)
    bob_page = bob.get("/savedviews/list/").get_data(as_text=True)
    assert name in bob_page and private not in bob_page
    assert bob.get(f"/savedviews/open/{shared_view.id}").status_code == 302
    assert bob.get(f"/savedviews/open/{private_view.id}").status_code == 404
    # Bob may open but not delete Alice's view.
    assert bob.post_form(f"/savedviews/delete/{shared_view.id}", {}, form_url=CARS).status_code == 404
    assert count_views(db, name) == 1
    for pk in (shared_view.id, private_view.id):
        assert eve.get(f"/savedviews/open/{pk}").status_code == 404
    assert name not in eve.get("/savedviews/list/").get_data(as_text=True)
    assert eve.get("/savedviews/open/99999999999").status_code == 404


def test_the_owner_deletes_a_view(db, team):
    _, alice, _, _ = team
    name = f"Gone {uid()}"
    save(alice, name, "q=x")
    pk = view_named(db, name).id
    response = alice.post_form(f"/savedviews/delete/{pk}", {}, form_url=CARS)
    assert response.status_code == 302
    assert count_views(db, name) == 0
    assert alice.get(f"/savedviews/open/{pk}").status_code == 404


def test_internal_staff_save_views_but_cannot_share_them(db, login):
    officer = login(new_user(PRIVACY_OFFICER).username)
    name = f"Officer {uid()}"
    officer.post_form(SAVE, {"list_name": "KeptSaleView", "name": name, "query": "", "shared": "y"}, form_url="/keptsaleview/list/")
    assert count_views(db, name) == 0
    assert "Only the users of a dealership can share a view." in officer.get("/keptsaleview/list/").get_data(as_text=True)
    officer.post_form(SAVE, {"list_name": "KeptSaleView", "name": name, "query": ""}, form_url="/keptsaleview/list/")
    assert count_views(db, name) == 1


def test_the_menu_has_saved_views_and_lists_have_the_save_control(team):
    _, alice, _, _ = team
    html = alice.get(CARS).get_data(as_text=True)
    assert 'href="/savedviews/list/"' in html
    assert 'action="/savedviews/save"' in html and "Save this view" in html


def test_saved_views_are_declared_in_the_privacy_registry():
    from app.privacy.registry import entry_for, undeclared_personal_columns

    entry = entry_for("saved_view")
    assert entry is not None and entry.declaration.user_column == "user_id"
    assert set(entry.declaration.personal) == {"name", "query"}
    assert "saved_view" not in undeclared_personal_columns()
