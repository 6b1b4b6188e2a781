"""Bulk edits (issue 12, item 4): the list's selection, a preview of what changes, one
transaction; prices by amount or percent with history and never below zero; another
dealer's ids change nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain import DomainError
from app.models import Car, CarPriceChange, CarStatus, Inquiry, InquiryStatus, Sale, SaleStatus
from app.workbench.bulk import NotVisible, load_selection, parse_change, parse_ids, run_bulk
from tests.factories import add_inquiry, make_car, make_client, new_dealer, new_person, new_user


@pytest.fixture
def shop(db):
    dealer = new_dealer(db)
    user = new_user("DealerStaff", dealer.slug)
    db.session.commit()
    cars = [make_car(db, dealer.id, asking_price_minor=price) for price in (1_000_000, 2_000_050, 999)]
    db.session.commit()
    return dealer, user, cars


def _prices(db, cars) -> list[int | None]:
    db.session.expire_all()
    return [db.session.get(Car, car.id).asking_price_minor for car in cars]


def _history(db, car) -> list[tuple]:
    rows = db.session.scalars(select(CarPriceChange).where(CarPriceChange.car_id == car.id).order_by(CarPriceChange.id))
    return [(row.old_price_minor, row.new_price_minor, row.changed_by_id) for row in rows]


# ------------------------------------------------------------------------- the rules


def test_ids_and_changes_are_checked_with_messages(app):
    with app.test_request_context():
        assert parse_ids(["3", 4, "3"]) == [3, 4]
        for bad in ([], ["x"], [-1], [2**64]):
            with pytest.raises(DomainError):
                parse_ids(bad)
        assert parse_change("car", "price_percent", "-5").value == Decimal(-5)
        with pytest.raises(DomainError, match="one of the bulk changes"):
            parse_change("car", "assign", 1)
        with pytest.raises(DomainError, match="statuses offered"):
            parse_change("car", "status", "sold")  # a sale sets "sold"
        with pytest.raises(DomainError, match="percentage from -100"):
            parse_change("car", "price_percent", "-150")
        with pytest.raises(DomainError, match="number other than zero"):
            parse_change("car", "price_amount", "12.5.0")


def test_percent_change_rounds_to_the_cent_and_a_preview_rolls_back(app, db, shop):
    dealer, _user, cars = shop
    with app.test_request_context():
        rows = load_selection(db.session, "car", [c.id for c in cars], dealer.id)
        outcome = run_bulk(db.session, "car", rows, parse_change("car", "price_percent", "-5"))
        db.session.rollback()
    assert [(r.before, r.after) for r in outcome.changed] == [
        ("€10,000.00", "€9,500.00"),
        ("€20,000.50", "€19,000.48"),
        ("€9.99", "€9.49"),
    ]
    assert _prices(db, cars) == [1_000_000, 2_000_050, 999]


def test_a_price_below_zero_refuses_the_whole_change(app, db, shop):
    dealer, _user, cars = shop
    with app.test_request_context():
        rows = load_selection(db.session, "car", [c.id for c in cars], dealer.id)
        with pytest.raises(DomainError, match="below zero"):
            run_bulk(db.session, "car", rows, parse_change("car", "price_amount", "-50"))
    db.session.rollback()
    assert _prices(db, cars) == [1_000_000, 2_000_050, 999]


def test_another_dealers_id_in_the_selection_makes_it_not_visible(app, db, shop, dealer_ids):
    dealer, _user, cars = shop
    theirs = make_car(db, dealer_ids["south-cars"])
    db.session.commit()
    with pytest.raises(NotVisible):
        load_selection(db.session, "car", [cars[0].id, theirs.id], dealer.id)


def test_sold_cars_keep_their_status_and_are_never_published(app, db, shop):
    dealer, _user, cars = shop
    db.session.get(Car, cars[0].id).status = CarStatus.sold
    db.session.get(Car, cars[0].id).sold_on = None
    db.session.flush()
    with app.test_request_context():
        rows = load_selection(db.session, "car", [c.id for c in cars], dealer.id)
        outcome = run_bulk(db.session, "car", rows, parse_change("car", "publish", None))
        db.session.rollback()
    assert len(outcome.changed) == 2 and outcome.refused == [(cars[0].stock_number, "Sold or archived cars are not published.")]


def test_archive_keeps_a_car_with_a_draft_sale(app, db, shop):
    dealer, _user, cars = shop
    client = make_client(db, dealer.id)
    db.session.add(
        Sale(dealer_id=dealer.id, car_id=cars[1].id, client_id=client.id, deal_number="D-1", price_minor=1, status=SaleStatus.draft)
    )
    db.session.commit()
    with app.test_request_context():
        rows = load_selection(db.session, "car", [c.id for c in cars], dealer.id)
        outcome = run_bulk(db.session, "car", rows, parse_change("car", "archive", None))
        db.session.rollback()
    assert {r.id for r in outcome.changed} == {cars[0].id, cars[2].id}
    assert [label for label, _ in outcome.refused] == [cars[1].stock_number]


# ------------------------------------------------------------------------- the page


def _selection_url(browser, ids) -> str:
    response = browser.post_form("/carmodelview/action_post", {"action": "bulk_edit", "rowid": ids}, form_url="/carmodelview/list/")
    assert response.status_code == 302
    return response.headers["Location"]


def _previewed(page: str) -> str:
    match = re.search(r'name="previewed" value="([^"]+)"', page)
    assert match, "a preview names the change it showed"
    return match.group(1)


def _preview_and_apply(browser, url: str, form: dict):
    preview = browser.post_form(url, {**form, "preview": "1"}, form_url=url).get_data(as_text=True)
    return browser.post_form(url, {**form, "previewed": _previewed(preview), "apply": "1"}, form_url=url)


def test_bulk_reduce_by_five_percent_previews_then_applies_with_price_history(login, db, shop):
    _dealer, user, cars = shop
    browser = login(user.username)
    url = _selection_url(browser, [c.id for c in cars[:2]])
    assert url.startswith("/carmodelview/bulk?")
    form = {"ids": [c.id for c in cars[:2]], "change": "price_percent", "amount": "-5"}
    preview = browser.post_form(url, {**form, "preview": "1"}, form_url=url).get_data(as_text=True)
    assert "2 rows will change." in preview and "€9,500.00" in preview and "€19,000.48" in preview
    assert _prices(db, cars) == [1_000_000, 2_000_050, 999]  # nothing written before Apply
    applied = browser.post_form(url, {**form, "previewed": _previewed(preview), "apply": "1"}, form_url=url)
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/carmodelview/list/")
    assert _prices(db, cars) == [950_000, 1_900_048, 999]
    assert _history(db, cars[0])[-1] == (1_000_000, 950_000, user.id)
    assert _history(db, cars[2]) == [(None, 999, None)]  # only the car made


def test_typed_amounts_follow_the_users_language(login, db, shop):
    _dealer, user, cars = shop
    browser = login(user.username)
    url = f"/carmodelview/bulk?ids={cars[0].id}&_l_=de"
    form = {"ids": [cars[0].id], "change": "price_amount", "amount": "-1.250,50"}
    assert _preview_and_apply(browser, url, form).status_code == 302
    assert _prices(db, cars)[0] == 1_000_000 - 125_050


def test_a_change_edited_after_its_preview_is_previewed_again_not_applied(login, db, shop):
    _dealer, user, cars = shop
    browser = login(user.username)
    url = f"/carmodelview/bulk?ids={cars[0].id}"
    form = {"ids": [cars[0].id], "change": "price_percent", "amount": "-5"}
    preview = browser.post_form(url, {**form, "preview": "1"}, form_url=url).get_data(as_text=True)
    edited = browser.post_form(url, {**form, "amount": "-50", "previewed": _previewed(preview), "apply": "1"}, form_url=url)
    assert edited.status_code == 200 and "€5,000.00" in edited.get_data(as_text=True)
    assert _prices(db, cars)[0] == 1_000_000


def test_another_dealers_id_in_a_bulk_form_is_404_and_changes_nothing(login, db, shop, dealer_ids):
    _dealer, user, cars = shop
    theirs = make_car(db, dealer_ids["south-cars"], asking_price_minor=500_000)
    db.session.commit()
    browser = login(user.username)
    assert browser.get(f"/carmodelview/bulk?ids={theirs.id}").status_code == 404
    form = {"ids": [cars[0].id, theirs.id], "change": "price_percent", "amount": "-5", "previewed": "price_percent:-5", "apply": "1"}
    assert browser.post_form("/carmodelview/bulk", form, form_url=f"/carmodelview/bulk?ids={cars[0].id}").status_code == 404
    assert _prices(db, [cars[0], theirs]) == [1_000_000, 500_000]
    # FAB's action_post is checked as well.
    response = browser.post_form("/carmodelview/action_post", {"action": "bulk_edit", "rowid": [theirs.id]}, form_url="/carmodelview/list/")
    assert response.status_code == 404


def test_a_refused_change_shows_the_reason_and_changes_nothing(login, db, shop):
    _dealer, user, cars = shop
    browser = login(user.username)
    url = f"/carmodelview/bulk?ids={cars[2].id}"
    form = {"ids": [cars[2].id], "change": "price_amount", "amount": "-10", "previewed": "price_amount:-10", "apply": "1"}
    page = browser.post_form(url, form, form_url=url).get_data(as_text=True)
    assert re.search(r'id="bulk-error">The price would go below zero for [^<]*: nothing was changed\.', page)
    assert _prices(db, cars)[2] == 999


# ------------------------------------------------------------------------- REST


def test_rest_bulk_dry_run_then_apply(api, db, shop):
    _dealer, user, cars = shop
    client = api(user.username)
    body = {"ids": [c.id for c in cars[:2]], "change": {"kind": "price_percent", "value": -5}, "dry_run": True}
    preview = client.post("/api/v1/car/bulk", json=body)
    assert preview.status_code == 200 and preview.json["applied"] is False and preview.json["changed"] == 2
    assert _prices(db, cars)[:2] == [1_000_000, 2_000_050]
    applied = client.post("/api/v1/car/bulk", json={**body, "dry_run": False})
    assert applied.status_code == 200 and applied.json["applied"] is True
    assert _prices(db, cars)[:2] == [950_000, 1_900_048]


def test_rest_bulk_refuses_foreign_ids_below_zero_and_malformed_bodies(api, db, shop, dealer_ids):
    _dealer, user, cars = shop
    theirs = make_car(db, dealer_ids["south-cars"])
    db.session.commit()
    client = api(user.username)
    foreign = client.post("/api/v1/car/bulk", json={"ids": [cars[0].id, theirs.id], "change": {"kind": "publish"}})
    assert foreign.status_code == 404
    below = client.post("/api/v1/car/bulk", json={"ids": [cars[2].id], "change": {"kind": "price_amount", "value": "-10"}})
    assert below.status_code == 422 and "below zero" in below.json["message"]["value"][0]
    assert client.post("/api/v1/car/bulk", json={"ids": "1"}).status_code == 400
    assert client.post("/api/v1/car/bulk", json={"ids": [cars[0].id], "change": {"kind": "fly"}}).status_code == 422
    db.session.expire_all()
    assert db.session.get(Car, theirs.id).published is False and _prices(db, cars)[2] == 999


def test_rest_bulk_assigns_inquiries_only_to_a_user_of_the_same_dealer(api, db, shop, dealer_ids):
    dealer, user, _cars = shop
    inquiries = [add_inquiry(db, new_person(), dealer.id) for _ in range(2)]
    stranger = new_user("DealerStaff", "south-cars")
    db.session.commit()
    client = api(user.username)
    ids = [i.id for i in inquiries]
    refused = client.post("/api/v1/inquiry/bulk", json={"ids": ids, "change": {"kind": "assign", "value": stranger.id}})
    assert refused.status_code == 422
    done = client.post("/api/v1/inquiry/bulk", json={"ids": ids, "change": {"kind": "assign", "value": user.id}})
    assert done.status_code == 200 and done.json["changed"] == 2
    status = client.post("/api/v1/inquiry/bulk", json={"ids": ids, "change": {"kind": "status", "value": "contacted"}})
    assert status.status_code == 200
    db.session.expire_all()
    assert {(db.session.get(Inquiry, i).assigned_user_id, db.session.get(Inquiry, i).status) for i in ids} == {
        (user.id, InquiryStatus.contacted)
    }
