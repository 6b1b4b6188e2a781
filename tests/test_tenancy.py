"""The tenant-isolation matrix, generated from the registered views and REST APIs.

Dealer A (north-motors) gets a 404 on every one of dealer B's (south-cars) rows, on every
list/show/edit/delete/action endpoint and every REST GET/PUT/DELETE; never sees B's rows in
lists or drop-downs; cannot point a foreign key at B's rows; and nothing of B's changes.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, inspect, select

from app.api import TENANT_APIS
from app.tenancy import TenantModelView
from tests.web_support import select_options

A_ADMIN = "north-motors-admin"
A, B = "north-motors", "south-cars"
MISSING_ID = 987654


def _tenant_views(app):
    views = [v for v in app.appbuilder.baseviews if isinstance(v, TenantModelView)]
    users = app.appbuilder.sm.user_view
    return views + [users]


def _view_ids(app):
    return [type(v).__name__ for v in _tenant_views(app)]


def _tenant_column(view) -> str:
    return getattr(view, "tenant_column", "dealer_id")


def _rows_of(db, model, column, dealer_id):
    return db.session.scalars(select(model.id).where(getattr(model, column) == dealer_id)).all()


def _snapshot(db, model, ids):
    rows = db.session.scalars(select(model).where(model.id.in_(ids))).all()
    db.session.expire_all()
    return {r.id: {c.key: getattr(r, c.key) for c in inspect(model).column_attrs} for r in rows}


@pytest.fixture(scope="module")
def views(app):
    return {type(v).__name__: v for v in _tenant_views(app)}


def test_every_dealer_facing_view_and_api_is_tenant_scoped(app):
    """A new dealer-owned model cannot be exposed through a plain ModelView or ModelRestApi."""
    from flask_appbuilder import ModelRestApi, ModelView

    from app.tenancy import TenantModelRestApi

    for view in app.appbuilder.baseviews:
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if model is None or not hasattr(model, "dealer_id") or model.__tablename__ == "ab_user":
            continue
        if isinstance(view, ModelView):
            assert isinstance(view, TenantModelView), type(view).__name__
        if isinstance(view, ModelRestApi):
            assert isinstance(view, TenantModelRestApi), type(view).__name__


@pytest.mark.parametrize(
    "view_name",
    [
        "CarModelView",
        "CarCostView",
        "ClientModelView",
        "InquiryModelView",
        "SaleModelView",
        "DealerProfileView",
        "DealerSocialLinkView",
        "CarPriceChangeView",
        "CarStatusChangeView",
        "ForecourtUserDBModelView",
    ],
)
def test_view_matrix(app, db, login, views, dealer_ids, view_name):
    view = views[view_name]
    model = view.datamodel.obj
    b_ids = _rows_of(db, model, _tenant_column(view), dealer_ids[B])
    a_ids = _rows_of(db, model, _tenant_column(view), dealer_ids[A])
    assert b_ids and a_ids, f"demo data has no {model.__name__} rows for both dealers"
    before = _snapshot(db, model, b_ids)
    browser = login(A_ADMIN)
    base = view.route_base

    listing = browser.get(f"{base}/list/?psize_{view_name}=100").get_data(as_text=True)
    shown = {int(pk) for pk in re.findall(rf"{re.escape(base)}/show/(\d+)", listing)}
    assert shown, f"A sees none of its own {model.__name__} rows"
    assert not shown & set(b_ids), "B's rows appear in A's list"

    target = b_ids[0]
    token_page = f"{base}/list/"
    assert browser.get(f"{base}/show/{target}").status_code == 404

    def same_as_missing(call):
        """B's id must answer exactly like an id that does not exist: 404, or 403 without the permission."""
        found, missing = call(target).status_code, call(MISSING_ID).status_code
        assert found == missing and found in (403, 404), (found, missing)

    same_as_missing(lambda pk: browser.get(f"{base}/edit/{pk}"))
    same_as_missing(lambda pk: browser.post_form(f"{base}/edit/{pk}", {"name": "hijacked"}, form_url=token_page))
    same_as_missing(lambda pk: browser.post_form(f"{base}/delete/{pk}", {}, form_url=token_page))
    for action_name in list(view.actions) or ["no-such-action"]:
        same_as_missing(lambda pk, name=action_name: browser.post_form(f"{base}/action/{name}/{pk}", {}, form_url=token_page))
        same_as_missing(
            lambda pk, name=action_name: browser.post_form(
                f"{base}/action_post", {"action": name, "rowid": [a_ids[0], pk]}, form_url=token_page
            )
        )
    assert _snapshot(db, model, b_ids) == before, "B's rows changed"


@pytest.mark.parametrize(
    "view_name",
    [
        "CarModelView",
        "CarCostView",
        "ClientModelView",
        "InquiryModelView",
        "SaleModelView",
        "DealerSocialLinkView",
        "ForecourtUserDBModelView",
    ],
)
def test_drop_downs_offer_only_own_dealer_rows(app, db, login, views, dealer_ids, view_name):
    view = views[view_name]
    browser = login(A_ADMIN)
    options = select_options(browser.get(f"{view.route_base}/add").get_data(as_text=True))
    checked = 0
    for name, values in options.items():
        if not view.datamodel.is_relation(name):
            continue
        target = view.datamodel.get_related_model(name)
        column = "id" if target.__tablename__ == "dealer" else "dealer_id"
        if not hasattr(target, column) or target.__tablename__ == "ab_role":
            continue
        foreign = set(_rows_of(db, target, column, dealer_ids[B]))
        assert values, f"{name} offers nothing"
        assert not values & foreign, f"{view_name}.{name} offers dealer B's rows"
        checked += 1
    assert checked, f"{view_name} has no scoped drop-down to check"


FOREIGN_KEY_CASES = [
    ("car", "CarCostApi", "car", {"kind": "purchase", "amount_minor": 100, "currency": "EUR", "incurred_on": "2026-01-01"}),
    ("car", "InquiryApi", "car", {"name": "Visitor", "source": "website", "status": "new"}),
    ("client", "InquiryApi", "client", {"name": "Visitor", "source": "website", "status": "new"}),
    ("client", "SaleApi", "buyer", {"deal_number": "X-1", "price_minor": 100, "currency": "EUR", "status": "draft"}),
    ("ab_user", "ClientApi", "assigned_user", {"first_name": "A", "last_name": "B", "source": "walk_in"}),
    ("dealer", "CarApi", "dealer", {}),
]


@pytest.mark.parametrize("table,api_name,field,payload", FOREIGN_KEY_CASES)
def test_api_refuses_foreign_keys_to_another_dealer(app, db, api, dealer_ids, table, api_name, field, payload):
    from app.models import Car

    api_cls = next(a for a in TENANT_APIS if a.__name__ == api_name)
    model = api_cls.datamodel.obj
    target_model = api_cls.datamodel.get_related_model(field)
    column = "id" if table == "dealer" else "dealer_id"
    foreign_id = _rows_of(db, target_model, column, dealer_ids[B])[0]
    body = dict(payload)
    body[field] = foreign_id
    if api_name == "SaleApi":
        body["car"] = _rows_of(db, Car, "dealer_id", dealer_ids[A])[0]
    if api_name == "CarApi":
        body.update(
            {
                "stock_number": "FK-1",
                "vin": "1HGCM82633A004352",
                "make": "Honda",
                "model": "Accord",
                "year": 2003,
                "mileage": 1000,
                "currency": "EUR",
            }
        )
    count = db.session.scalar(select(func.count()).select_from(model))
    client = api(A_ADMIN)
    response = client.post(f"/api/v1/{api_cls.resource_name}/", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["message"]
    assert db.session.scalar(select(func.count()).select_from(model)) == count


@pytest.mark.parametrize("api_name", [a.__name__ for a in TENANT_APIS])
def test_rest_matrix(app, db, api, dealer_ids, api_name):
    api_cls = next(a for a in TENANT_APIS if a.__name__ == api_name)
    model = api_cls.datamodel.obj
    b_ids = _rows_of(db, model, "dealer_id", dealer_ids[B])
    before = _snapshot(db, model, b_ids)
    client = api(A_ADMIN)
    url = f"/api/v1/{api_cls.resource_name}/"
    listed = client.get(url + "?q=(page_size:100)")
    assert listed.status_code == 200
    ids = set(listed.json["ids"])
    assert ids and not ids & set(b_ids)
    target = b_ids[0]
    assert client.get(f"{url}{target}").status_code == 404
    assert client.put(f"{url}{target}", json={}).status_code == 404
    assert client.delete(f"{url}{target}").status_code == 404
    info = client.get(url + "_info?q=(keys:!(add_columns))").json
    for column in info["add_columns"]:
        values = {v["id"] for v in column.get("values", [])}
        if values and column["name"] in {"car", "client", "buyer"}:
            target_model = api_cls.datamodel.get_related_model(column["name"])
            assert not values & set(_rows_of(db, target_model, "dealer_id", dealer_ids[B]))
    assert _snapshot(db, model, b_ids) == before


def test_dealer_user_cannot_move_a_row_to_another_dealer(app, db, api, dealer_ids):
    from app.models import Client

    client_id = _rows_of(db, Client, "dealer_id", dealer_ids[A])[0]
    response = api(A_ADMIN).put(f"/api/v1/client/{client_id}", json={"dealer": dealer_ids[B]})
    assert response.status_code == 422  # "dealer" is not an editable field
    db.session.expire_all()
    assert db.session.get(Client, client_id).dealer_id == dealer_ids[A]


def test_flush_guard_refuses_mixed_tenants_on_any_code_path(app, db, dealer_ids):
    from app.domain.tenancy import TenantViolation
    from app.models import Car, Inquiry

    foreign_car = db.session.get(Car, _rows_of(db, Car, "dealer_id", dealer_ids[B])[0])
    db.session.add(Inquiry(dealer_id=dealer_ids[A], car=foreign_car, name="Mixed"))
    with pytest.raises(TenantViolation):
        db.session.flush()
    db.session.rollback()
