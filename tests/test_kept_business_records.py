"""A sale kept for accounting after its buyer is erased keeps what that purpose needs: the
buyer's name and address, restricted (only the privacy officer sees them), left out of
every export and list, and erased by the business-records sweep when the years end.

Each test has its own dealer and person; the sweep runs as of a clock long before any
other test's rows, with this test's kept sale dated back to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, select, update

from app.domain.grants import DEALER_ADMIN
from app.models import Client, Dealer, DealerUser, PrivacyRequest, RequestStatus, Sale, SaleStatus
from app.privacy.lifecycle import retention
from app.privacy.requests import erasure_rows
from app.privacy.requests.export_parts import account_parts
from app.privacy.requests.scan import scan_all_text_columns
from tests.factories import make_car, new_dealer, new_person, new_user, uid
from tests.privacy_support import confirm, file_erasure
from tests.queue_support import run_queue

LONG_AGO = datetime(1890, 6, 1, 12, 0, tzinfo=UTC)  # before any other test module's rows


def kept_sale(app, db):
    """A dealer, a person with a recent sale and a sale past its years, the person erased:
    (dealer, person, kept sale id, old sale id)."""
    from app.queueing import enqueue_request

    dealer = new_dealer(db)
    p = new_person()
    client = Client(
        dealer_id=dealer.id,
        first_name=p.first_name,
        last_name=p.last_name,
        email=p.email,
        phone=p.phone,
        address_line1="Hauptstraße 5",
        address_line2="Hinterhaus",
        postal_code="20095",
        city="Hamburg",
        country="DE",
    )
    db.session.add(client)
    db.session.flush()
    sales = []
    for sale_date in (date.today() - timedelta(days=100), date.today() - relativedelta(years=3, days=10)):
        sale = Sale(
            dealer_id=dealer.id,
            deal_number=f"KB-{uid()}",
            car=make_car(db, dealer.id),
            buyer=client,
            price_minor=2_000_000,
            currency="EUR",
            sale_date=sale_date,
            status=SaleStatus.sold,
        )
        db.session.add(sale)
        db.session.flush()
        sales.append(sale.id)
    request = file_erasure(db, p, dealer.id, actor="privacy")
    db.session.commit()
    confirm(db, request)
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()
    done = db.session.get(PrivacyRequest, request.id)
    assert done.status is RequestStatus.completed, done.failure
    return dealer, p, sales[0], sales[1]


def cleanup(db, dealer_id: int) -> None:
    session = db.session
    session.rollback()
    requests = list(session.scalars(select(PrivacyRequest.id).where(PrivacyRequest.dealer_id == dealer_id)))
    if requests:
        erasure_rows.delete_rows(session, PrivacyRequest, requests)
    users = list(session.scalars(select(DealerUser.id).where(DealerUser.dealer_id == dealer_id)))
    if users:
        erasure_rows.delete_rows(session, DealerUser, users)
    session.execute(delete(Sale).where(Sale.dealer_id == dealer_id))
    erasure_rows.delete_rows(session, Dealer, [dealer_id])
    session.commit()


def test_a_kept_sale_keeps_the_buyer_name_and_address_for_accounting(app, db):
    dealer, p, kept_id, old_id = kept_sale(app, db)
    try:
        kept = db.session.get(Sale, kept_id)
        assert (kept.buyer_name, kept.buyer_address) == (p.name, "Hauptstraße 5, Hinterhaus, 20095 Hamburg, DE")
        assert kept.buyer.is_erasure_placeholder and kept.restricted_at is not None
        assert db.session.get(Sale, old_id) is None  # past its years: erased, name and all
        # Nothing else of the person is left: e-mail and phone nowhere, the name only there.
        assert scan_all_text_columns(db.session, [p.email, p.phone]) == {}
        assert scan_all_text_columns(db.session, [p.name]) == {"sale": 1}
        assert scan_all_text_columns(db.session, [p.name], exclude={"sale": [kept_id]}) == {}
    finally:
        cleanup(db, dealer.id)


def test_the_kept_buyer_identity_is_restricted(app, db, login, api):
    dealer, p, kept_id, _ = kept_sale(app, db)
    try:
        admin = new_user(DEALER_ADMIN, dealer.slug)
        kept = db.session.get(Sale, kept_id)
        deal = kept.deal_number
        # The dealer: neither the sale nor the name in its lists, searches, API or export.
        rest = api(admin.username)
        assert rest.get(f"/api/v1/sale/{kept_id}").status_code == 404
        assert rest.get("/api/v1/sale/?q=(page_size:100)").json["count"] == 0
        browser = login(admin.username)
        for url in ("/salemodelview/list/", f"/salemodelview/list/?_flt_0_deal_number={deal}", "/"):
            page = browser.get(url).get_data(as_text=True)
            assert f"/salemodelview/show/{kept_id}" not in page and p.last_name not in page
        assert browser.get(f"/keptsaleview/show/{kept_id}").status_code in (302, 403, 404)
        parts = {part.name: part for part in account_parts(db.session, PrivacyRequest(dealer_id=dealer.id))}
        assert (parts["sale"].total, parts["sale"].left_out) == (0, 1)
        assert "buyer_name" not in Sale.__privacy__.export_columns and "buyer_address" not in Sale.__privacy__.export_columns
        # Admin (not the privacy officer) does not see it either.
        assert p.last_name not in login("admin").get("/keptsaleview/list/").get_data(as_text=True)
        # The privacy officer does, with the date it is erased on.
        officer = login("privacy")
        listed = officer.get("/keptsaleview/list/").get_data(as_text=True)
        assert deal in listed and p.name in listed
        shown = officer.get(f"/keptsaleview/show/{kept_id}").get_data(as_text=True)
        assert "Hauptstraße 5, Hinterhaus, 20095 Hamburg, DE" in shown
        assert officer.get(f"/keptsaleview/edit/{kept_id}").status_code in (302, 403, 404)
    finally:
        cleanup(db, dealer.id)


def test_the_kept_buyer_identity_is_erased_when_the_period_ends(app, db):
    dealer, p, kept_id, _ = kept_sale(app, db)
    try:
        # Three years pass: the kept sale is dated back to a clock of this test's own.
        sale_date = LONG_AGO.date() - relativedelta(years=3)
        db.session.execute(update(Sale).where(Sale.id == kept_id).values(sale_date=sale_date))
        db.session.commit()
        day_before = retention.run_sweeps(["business_records"], as_of=LONG_AGO - timedelta(days=1), dry_run=True)
        assert day_before["business_records"].get("sale") is None
        assert db.session.get(Sale, kept_id).buyer_name == p.name

        done = retention.run_sweeps(["business_records"], as_of=LONG_AGO)
        assert done["business_records"]["sale"] == {"deleted": 1}
        db.session.expire_all()
        assert db.session.get(Sale, kept_id) is None
        assert scan_all_text_columns(db.session, [p.name, p.last_name, "Hauptstraße 5, Hinterhaus"]) == {}
    finally:
        cleanup(db, dealer.id)
