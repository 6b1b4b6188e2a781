"""Referential integrity on every database: SQLite enforces foreign keys like PostgreSQL,
a car with a sale is archived instead of deleted, and no delete path (the views, the REST
API, the retention sweeps, the account deletion, the 3-year records erasure, a subject's
erasure) leaves a row pointing at a row that is gone.

Each test builds its own dealers; the sweeps run as of a clock long before any other
test's rows (``LONG_AGO``), so they find this test's rows only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from app.domain.grants import DEALER_ADMIN, DEALER_STAFF
from app.models import (
    Car,
    CarCost,
    CarStatus,
    CarStatusChange,
    Client,
    Dealer,
    DealerUser,
    Inquiry,
    PageView,
    PrivacyRequest,
    RequestStatus,
    Sale,
    SaleStatus,
)
from app.privacy.lifecycle import retention
from app.privacy.requests import erasure_rows
from tests.factories import add_client, add_disclosure, add_inquiry, make_car, make_client, new_dealer, new_person, new_user, uid
from tests.privacy_support import confirm, file_erasure, user_id
from tests.queue_support import run_queue

# Before any other test module's rows: a sweep as of then finds this module's rows only.
LONG_AGO = datetime(1900, 3, 1, 12, 0, tzinfo=UTC)
SWEEPS = ["inquiries", "usage_log", "mail_outbox", "erasure_ledger", "terminated_accounts", "business_records", "deactivated_users"]


# -- helpers ---------------------------------------------------------------------------


def orphans(db) -> dict[str, int]:
    """Rows per foreign key whose parent id is set and not found, over the whole database."""
    db.session.rollback()
    found = {}
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            parent = fk.column.table.alias("parent")  # the same table, for a self-reference
            missing = ~exists().where(parent.c[fk.column.name] == fk.parent)
            query = select(func.count()).select_from(table).where(fk.parent.is_not(None), missing)
            count = db.session.scalar(query)
            if count:
                found[f"{table.name}.{fk.parent.name} -> {fk.column.table.name}"] = count
    return found


def sale_of(db, car: Car, client: Client, status: SaleStatus = SaleStatus.sold, sale_date: date | None = None, **values) -> Sale:
    sale = Sale(
        dealer_id=car.dealer_id,
        deal_number=f"RI-{uid()}",
        car=car,
        buyer=client,
        price_minor=1_200_000,
        currency="EUR",
        sale_date=sale_date or date.today() - timedelta(days=20),
        status=status,
        **values,
    )
    db.session.add(sale)
    db.session.commit()
    return sale


def exists_row(db, model, pk) -> bool:
    db.session.expire_all()
    return db.session.get(model, pk) is not None


def erase(app, db, request: PrivacyRequest) -> None:
    """Preview, confirm and run the erasure through the real queue."""
    from app.queueing import enqueue_request

    confirm(db, request)
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request.id).status is RequestStatus.completed


def view_delete(browser, view: str, pk: int):
    return browser.post_form(f"/{view}/delete/{pk}", {}, form_url=f"/{view}/list/", follow_redirects=True)


def dashboard_sales(browser) -> int:
    """The sales the home page counts: the months of its sales chart's table, added up."""
    html = browser.get("/").get_data(as_text=True)
    table = re.search(r'<table[^>]*id="chart-sales-table">(.*?)</table>', html, re.DOTALL)
    assert table, "no sales chart on the dashboard"
    rows = re.findall(r'<tr>\s*<th scope="row">[^<]*</th>\s*<td class="text-right">(?:<a [^>]*>)?(\d+)', table.group(1))
    assert len(rows) == 12, rows  # the last twelve months
    return sum(int(count) for count in rows)


def listed_sold_sales(client) -> list[int]:
    response = client.get("/api/v1/sale/?q=(page_size:100)")
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(row["id"] for row in response.json["result"] if row["status"] == "sold")


def cleanup(db, dealers: list[int]) -> None:
    """This test's dealers and everything of theirs (sales first: they keep their cars)."""
    session = db.session
    session.rollback()
    requests = list(session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.dealer_id.in_(dealers))))
    if requests:
        erasure_rows.delete_rows(session, PrivacyRequest, requests)
    users = list(session.scalars(select(DealerUser.id).where(DealerUser.dealer_id.in_(dealers))))
    if users:
        erasure_rows.delete_rows(session, DealerUser, users)
    session.execute(delete(Sale).where(Sale.dealer_id.in_(dealers)))
    erasure_rows.delete_rows(session, Dealer, dealers)
    session.commit()


@pytest.fixture
def dealers(db):
    made: list[int] = []
    yield made
    cleanup(db, made)


# -- the tests -------------------------------------------------------------------------


def test_sqlite_enforces_foreign_keys(app, db, dealers):
    dealer = new_dealer(db)
    dealers.append(dealer.id)
    car = make_car(db, dealer.id)
    db.session.add(CarCost(car=car, dealer_id=dealer.id, amount_minor=10_000, currency="EUR"))
    buyer = make_client(db, dealer.id)
    sale = sale_of(db, car, buyer)
    car_id, sale_id = car.id, sale.id
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with db.engine.connect() as connection:  # every connection, not just the session's
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # The migrations ran with them off (a batch operation recreates a table), left no
        # violation behind, and handed the connections back with them on.
        result = app.test_cli_runner().invoke(args=["forecourt", "init"])
        assert result.exit_code == 0, result.output
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.session.rollback()

    # A row pointing at a missing row is refused, even below the ORM.
    missing_car = (db.session.scalar(select(func.max(Car.id))) or 0) + 1000
    values = {
        "dealer_id": dealer.id,
        "deal_number": f"RI-{uid()}",
        "car_id": missing_car,
        "client_id": buyer.id,
        "price_minor": 1,
        "currency": "EUR",
        "sale_date": date.today(),
        "status": "draft",
    }
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Sale.__table__).values(**values))
        db.session.flush()
    db.session.rollback()

    # ON DELETE RESTRICT holds: a car with a sale stays.
    with pytest.raises(IntegrityError):
        db.session.execute(delete(Car).where(Car.id == car_id))
    db.session.rollback()
    assert exists_row(db, Car, car_id) and exists_row(db, Sale, sale_id)

    # ON DELETE CASCADE is the database's own: the car's costs and history go with it.
    db.session.execute(delete(Sale).where(Sale.id == sale_id))
    db.session.execute(delete(Car).where(Car.id == car_id))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CarCost).where(CarCost.car_id == car_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(CarStatusChange).where(CarStatusChange.car_id == car_id)) == 0


def test_deleting_a_sold_car_is_refused_and_it_can_be_archived(db, login, api, dealers):
    dealer = new_dealer(db)
    dealers.append(dealer.id)
    admin = new_user(DEALER_ADMIN, dealer.slug)
    sold, draft_car, unsold = make_car(db, dealer.id), make_car(db, dealer.id), make_car(db, dealer.id)
    buyer = make_client(db, dealer.id)
    sale = sale_of(db, sold, buyer)
    draft = sale_of(db, draft_car, buyer, status=SaleStatus.draft)
    sold_id, sale_id, unsold_id, draft_car_id = sold.id, sale.id, unsold.id, draft_car.id
    message = f"Car {sold.stock_number} has sale {sale.deal_number} and is kept with it: archive the car instead."
    browser, rest = login(admin.username), api(admin.username)

    page = view_delete(browser, "carmodelview", sold_id)
    assert message in page.get_data(as_text=True)
    response = rest.delete(f"/api/v1/car/{sold_id}")
    assert (response.status_code, response.json) == (422, {"message": {"_schema": [message]}})
    assert exists_row(db, Car, sold_id) and db.session.get(Sale, sale_id).car_id == sold_id
    assert db.session.get(Car, sold_id).status is CarStatus.sold
    assert orphans(db) == {}

    # Archived instead: off the stock and the listing, its sale and history kept.
    page = browser.post_form(f"/carmodelview/action/archive/{sold_id}", {}, form_url="/carmodelview/list/", follow_redirects=True)
    assert "1 car archived." in page.get_data(as_text=True)
    db.session.expire_all()
    car = db.session.get(Car, sold_id)
    assert (car.status, car.published, car.sold_on) == (CarStatus.archived, False, sale.sale_date)
    assert db.session.get(Sale, sale_id).status is SaleStatus.sold
    history = db.session.scalars(select(CarStatusChange.new_status).where(CarStatusChange.car_id == sold_id).order_by(CarStatusChange.id))
    assert list(history) == [CarStatus.available, CarStatus.sold, CarStatus.archived]

    # A car whose sale is a draft is not archived (the sale is finished or voided first),
    # and not deleted either; a car that was never sold is deleted as before.
    page = browser.post_form(f"/carmodelview/action/archive/{draft_car_id}", {}, form_url="/carmodelview/list/", follow_redirects=True)
    assert "finish or void the sale first" in page.get_data(as_text=True)
    assert db.session.get(Car, draft_car_id).status is CarStatus.available
    response = rest.delete(f"/api/v1/car/{draft_car_id}")
    assert response.status_code == 422 and draft.deal_number in response.json["message"]["_schema"][0]
    assert rest.delete(f"/api/v1/car/{unsold_id}").status_code == 200
    assert not exists_row(db, Car, unsold_id)
    assert orphans(db) == {}


def test_no_delete_path_leaves_an_orphan(app, db, login, api, dealers):
    assert orphans(db) == {}
    active, ended = new_dealer(db), new_dealer(db)
    dealers.extend([active.id, ended.id])
    admin = new_user(DEALER_ADMIN, active.slug)
    staff = new_user(DEALER_STAFF, active.slug)
    browser, rest = login(admin.username), api(admin.username)

    # The active dealer: a person P with a kept sale, and rows for each delete path.
    p = new_person()
    p_client = add_client(db, p, active.id)
    add_inquiry(db, p, active.id, client=p_client)
    add_disclosure(db, p, p_client)
    p_car = make_car(db, active.id)
    kept = sale_of(db, p_car, p_client, salesperson_id=staff.id)
    cars = {name: make_car(db, active.id) for name in ("view", "api", "sold")}
    for car in cars.values():
        db.session.add(CarCost(car=car, dealer_id=active.id, amount_minor=50_000, currency="EUR"))
    buyer = make_client(db, active.id)
    sold_sale = sale_of(db, cars["sold"], buyer)
    gone = {name: make_client(db, active.id) for name in ("view", "api")}
    for name, client in gone.items():
        q = new_person()
        add_inquiry(db, q, active.id, client=client)  # on a car that goes too
        db.session.add(Inquiry(dealer_id=active.id, car=cars[name], client=client, name="Ina Quiry", email=q.email, message="Still there?"))
        add_disclosure(db, q, client)
    old_inquiry = Inquiry(
        dealer_id=active.id,
        name="Old Visitor",
        email=f"old-{uid()}@example.org",
        message="Hi",
        received_at=LONG_AGO - relativedelta(years=3),
    )
    db.session.add(old_inquiry)
    db.session.commit()
    draft_car = make_car(db, active.id)
    draft = sale_of(db, draft_car, buyer, status=SaleStatus.draft)
    p_client_id, kept_id, old_inquiry_id, staff_id = p_client.id, kept.id, old_inquiry.id, staff.id
    assert orphans(db) == {}

    # The views and the REST API: what may go goes, what must stay is refused.
    assert "archive the car instead" in view_delete(browser, "carmodelview", cars["sold"].id).get_data(as_text=True)
    assert rest.delete(f"/api/v1/car/{cars['sold'].id}").status_code == 422
    assert "file an erasure request" in view_delete(browser, "clientmodelview", buyer.id).get_data(as_text=True)
    assert rest.delete(f"/api/v1/client/{buyer.id}").status_code == 422
    view_delete(browser, "carmodelview", cars["view"].id)
    view_delete(browser, "clientmodelview", gone["view"].id)
    assert rest.delete(f"/api/v1/car/{cars['api'].id}").status_code == 200
    assert rest.delete(f"/api/v1/client/{gone['api'].id}").status_code == 200
    assert rest.delete(f"/api/v1/sale/{draft.id}").status_code == 200
    assert rest.delete(f"/api/v1/car/{draft_car.id}").status_code == 200
    a_inquiry = db.session.scalar(select(Inquiry.id).where(Inquiry.dealer_id == active.id, Inquiry.client_id.is_(None)).limit(1))
    if a_inquiry:
        view_delete(browser, "inquirymodelview", a_inquiry)
    db.session.expire_all()
    assert not exists_row(db, Car, cars["view"].id) and not exists_row(db, Client, gone["view"].id)
    assert not exists_row(db, Car, cars["api"].id) and not exists_row(db, Client, gone["api"].id)
    assert exists_row(db, Car, cars["sold"].id) and exists_row(db, Sale, sold_sale.id) and exists_row(db, Client, buyer.id)
    assert orphans(db) == {}

    # A person's erasure: P's client goes, the sale stays (kept for accounting).
    request = file_erasure(db, p, active.id, actor="privacy")
    db.session.commit()
    erase(app, db, request)
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request.id).status is RequestStatus.completed
    assert not exists_row(db, Client, p_client_id) and db.session.get(Sale, kept_id).buyer.is_erasure_placeholder
    assert orphans(db) == {}

    # The ended dealer: terminated long ago, deleted on day 30, its records after 3 years;
    # the other sweeps run on the same clock.
    from app.privacy.lifecycle.termination import terminate_dealer

    ended_admin = new_user(DEALER_ADMIN, ended.slug)
    ended_car = make_car(db, ended.id)
    db.session.add(CarCost(car=ended_car, dealer_id=ended.id, amount_minor=1000, currency="EUR"))
    ended_client = make_client(db, ended.id)
    sale_of(db, ended_car, ended_client, sale_date=LONG_AGO.date() - timedelta(days=100))
    db.session.add(Inquiry(dealer_id=ended.id, car=ended_car, client=ended_client, name="Old", email=f"o-{uid()}@x.example", message="?"))
    db.session.add(PageView(user_id=ended_admin.id, dealer_id=ended.id, path="/carmodelview/list/", viewed_at=LONG_AGO - timedelta(days=1)))
    gone_user = db.session.get(DealerUser, staff_id)
    gone_user.active, gone_user.deactivated_at = False, LONG_AGO - timedelta(days=40)
    db.session.commit()
    terminate_dealer(db.session, ended.id, actor_id=user_id(db, "staff"), reason="Contract ended", now=LONG_AGO)
    db.session.commit()
    run_queue(app)  # the account export and the notices
    assert orphans(db) == {}
    for as_of in (LONG_AGO + timedelta(days=31), LONG_AGO + relativedelta(years=3, days=31)):
        results = retention.run_sweeps(SWEEPS, as_of=as_of)
        assert not any("failed" in actions for counts in results.values() for actions in counts.values()), results
        assert orphans(db) == {}
    db.session.expire_all()
    ended_row = db.session.get(Dealer, ended.id)
    assert ended_row.account_deleted_at is not None and ended_row.records_erased_at is not None
    assert db.session.scalar(select(func.count()).select_from(Car).where(Car.dealer_id == ended.id)) == 0
    assert db.session.get(DealerUser, staff_id).anonymised_at is not None
    assert not exists_row(db, Inquiry, old_inquiry_id)
    assert db.session.get(Sale, kept_id).salesperson_id == staff_id  # an anonymised account, still there


def test_the_dashboard_and_the_sale_list_agree_after_deletions(app, db, login, api, dealers):
    dealer = new_dealer(db)
    dealers.append(dealer.id)
    admin = new_user(DEALER_ADMIN, dealer.slug)
    browser, rest = login(admin.username), api(admin.username)
    p = new_person()
    p_client = add_client(db, p, dealer.id)
    buyer = make_client(db, dealer.id)
    cars = [make_car(db, dealer.id) for _ in range(3)]
    sales = [sale_of(db, cars[0], buyer), sale_of(db, cars[1], p_client), sale_of(db, cars[2], buyer, status=SaleStatus.draft)]
    listed = listed_sold_sales(rest)
    assert listed == sorted([sales[0].id, sales[1].id]) and dashboard_sales(browser) == 2

    # Deleting the sold cars is refused (they are archived instead): both still count.
    view_delete(browser, "carmodelview", cars[0].id)
    rest.delete(f"/api/v1/car/{cars[1].id}")
    browser.post_form(f"/carmodelview/action/archive/{cars[0].id}", {}, form_url="/carmodelview/list/")
    assert listed_sold_sales(rest) == listed and dashboard_sales(browser) == 2

    # The draft sale and its car go; P is erased: P's sale is kept, restricted, hidden from
    # the dealer, so neither the list nor the dashboard counts it.
    assert rest.delete(f"/api/v1/sale/{sales[2].id}").status_code == 200
    assert rest.delete(f"/api/v1/car/{cars[2].id}").status_code == 200
    request = file_erasure(db, p, dealer.id, actor="privacy")
    db.session.commit()
    erase(app, db, request)
    db.session.expire_all()
    assert db.session.get(Sale, sales[1].id).restricted_at is not None
    assert listed_sold_sales(rest) == [sales[0].id] and dashboard_sales(browser) == 1
    assert orphans(db) == {}
