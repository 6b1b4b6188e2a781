"""The home page's figures (issue 13 item 2): exact numbers from the SQL aggregates of
``app.dashboards``, tenant-scoped and hiding restricted rows like the lists, and each
figure's link opening the list that shows exactly the rows it counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date

from app.dashboards import dealer as dealer_dash
from app.dashboards import privacy as privacy_dash
from app.dashboards import staff as staff_dash
from app.domain.dashboard import aging_buckets, bar_geometry, month_after, recent_months
from app.models import (
    Breach,
    BreachStatus,
    CarStatus,
    DealerStatus,
    Inquiry,
    InquirySource,
    InquiryStatus,
    MailMessage,
    PrivacyRequest,
    RequestStatus,
    RequestType,
    Sale,
    SaleStatus,
    utcnow,
)
from tests.factories import add_client, make_car, new_dealer, new_person, new_user, uid

TODAY = date(2026, 12, 7)


# ------------------------------------------------------------------ plain rules


def test_aging_buckets_are_acquisition_date_bounds_on_today():
    buckets = aging_buckets(TODAY)
    assert [b.key for b in buckets] == ["0-30", "31-60", "61-90", "90+"]
    # 0–30 days: acquired after today-31 (i.e. on or after today-30), no upper bound.
    assert (buckets[0].acquired_after, buckets[0].acquired_before) == (date(2026, 11, 6), None)
    assert (buckets[1].acquired_after, buckets[1].acquired_before) == (date(2026, 10, 7), date(2026, 11, 7))
    assert (buckets[2].acquired_after, buckets[2].acquired_before) == (date(2026, 9, 7), date(2026, 10, 8))
    assert (buckets[3].acquired_after, buckets[3].acquired_before) == (None, date(2026, 9, 8))


def test_recent_months_are_the_last_twelve_first_days_oldest_first():
    months = recent_months(date(2026, 3, 15))
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1) and len(months) == 12
    assert month_after(date(2026, 12, 1)) == date(2027, 1, 1)


def test_bar_geometry_scales_to_the_largest_value():
    bars = bar_geometry([0, 5, 10], width=300, height=100, gap=0)
    assert [(b.x, b.width) for b in bars] == [(0, 100), (100, 100), (200, 100)]
    assert [(b.y, b.height) for b in bars] == [(100, 0), (50, 50), (0, 100)]
    assert [b.height for b in bar_geometry([0, 0], 10, 10)] == [0, 0]


# ------------------------------------------------------------------ dealer


def _restrict(row) -> None:
    row.restricted_at = utcnow()


def test_stock_by_status_and_aging_count_the_dealers_own_unrestricted_cars(db):
    dealer = new_dealer(db)
    other = new_dealer(db)
    days = {
        0: CarStatus.available,
        30: CarStatus.available,
        -3: CarStatus.acquired,  # acquired in the future: 0 days in stock
        31: CarStatus.reserved,
        60: CarStatus.in_preparation,
        61: CarStatus.available,
        90: CarStatus.available,
        91: CarStatus.available,
        200: CarStatus.sold,  # out of stock: not aged
        400: CarStatus.archived,
    }
    for age, status in days.items():
        make_car(db, dealer.id, acquired_on=TODAY - timedelta(days=age), status=status)
    _restrict(make_car(db, dealer.id, acquired_on=TODAY - timedelta(days=95)))
    make_car(db, other.id, acquired_on=TODAY - timedelta(days=10))
    db.session.commit()

    aging = {f.key: f.count for f in dealer_dash.stock_aging(dealer.id, TODAY)}
    assert aging == {"0-30": 3, "31-60": 2, "61-90": 2, "90+": 1}
    assert dealer_dash.stock_aging(dealer.id, TODAY, include_restricted=True)[3].count == 2

    stock = {f.key: f.count for f in dealer_dash.stock_by_status(dealer.id)}
    assert stock == {"acquired": 1, "in_preparation": 1, "available": 5, "reserved": 1, "sold": 1, "archived": 1}


def test_sales_per_month_count_sold_deals_of_the_last_twelve_months_with_revenue_per_currency(db):
    dealer = new_dealer(db)
    client = add_client(db, new_person(), dealer.id)

    def sale(on: date, price: int, currency: str = "EUR", status: SaleStatus = SaleStatus.sold, restricted: bool = False):
        car = make_car(db, dealer.id, status=CarStatus.available)
        row = Sale(
            dealer_id=dealer.id,
            deal_number=f"D-{uid()}",
            car=car,
            buyer=client,
            price_minor=price,
            currency=currency,
            sale_date=on,
            status=status,
        )
        if restricted:
            _restrict(row)
        db.session.add(row)
        db.session.flush()

    sale(date(2026, 12, 1), 1_000_000)
    sale(date(2026, 12, 6), 2_050_050)
    sale(date(2026, 12, 2), 500_000, currency="CHF")
    sale(date(2026, 1, 31), 700_000)
    sale(date(2025, 12, 31), 900_000)  # thirteen months ago: outside
    sale(date(2026, 12, 3), 100, status=SaleStatus.draft)
    sale(date(2026, 12, 3), 100, status=SaleStatus.voided)
    sale(date(2026, 12, 3), 100, restricted=True)
    db.session.commit()

    months = dealer_dash.sales_by_month(dealer.id, TODAY)
    assert [m.month for m in months] == recent_months(TODAY)
    by_month = {m.month: (m.figure.count, m.revenue) for m in months}
    assert by_month[date(2026, 12, 1)] == (3, {"CHF": 500_000, "EUR": 3_050_050})
    assert by_month[date(2026, 1, 1)] == (1, {"EUR": 700_000})
    assert sum(count for count, _ in by_month.values()) == 4
    december = months[-1].figure
    assert december.filters == {"_flt_0_status": "sold", "_flt_1_sale_date": "2026-11-30", "_flt_2_sale_date": "2027-01-01"}


def test_inquiries_by_source_with_the_median_first_response_and_the_waiting_ones(db):
    dealer = new_dealer(db)
    received = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def inquiry(source, answered_after_hours=None, status=InquiryStatus.contacted, restricted=False, dealer_id=dealer.id):
        row = Inquiry(dealer_id=dealer_id, name="Eva Beispiel", source=source, status=status, received_at=received)
        if answered_after_hours is not None:
            row.first_response_at = received + timedelta(hours=answered_after_hours)
        if restricted:
            _restrict(row)
        db.session.add(row)

    for hours in (1, 3, 2):
        inquiry(InquirySource.website, hours)
    inquiry(InquirySource.website, 100, restricted=True)
    inquiry(InquirySource.phone, 1)
    inquiry(InquirySource.phone, 4)
    inquiry(InquirySource.email, status=InquiryStatus.new)
    inquiry(InquirySource.walk_in, status=InquiryStatus.new)
    inquiry(InquirySource.walk_in, status=InquiryStatus.new, restricted=True)
    inquiry(InquirySource.phone, status=InquiryStatus.new, dealer_id=new_dealer(db).id)
    db.session.commit()

    sources = {s.figure.key: (s.figure.count, s.median_response_seconds) for s in dealer_dash.inquiries_by_source(dealer.id)}
    assert sources["website"] == (3, pytest.approx(7200, abs=1))
    assert sources["phone"] == (2, pytest.approx(9000, abs=1))
    assert sources["email"] == (1, None)
    assert sources["walk_in"] == (1, None)
    assert sources["marketplace"] == (0, None)
    assert dealer_dash.inquiries_by_source(dealer.id, include_restricted=True)[0].median_response_seconds == pytest.approx(9000, abs=1)

    waiting = dealer_dash.waiting_inquiries(dealer.id)
    assert waiting.count == 2 and waiting.extra["oldest"] == received
    assert waiting.filters == {"_flt_0_status": "new"}


# ------------------------------------------------------------------ privacy officer


def _request(db, due_in: timedelta, status=RequestStatus.received, kind=RequestType.access) -> PrivacyRequest:
    now = utcnow()
    row = PrivacyRequest(
        reference=f"T{uid()}"[:20],
        request_type=kind,
        status=status,
        subject_email=f"p-{uid()}@example.org",
        received_at=now,
        due_at=now + due_in,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_privacy_figures_count_overdue_due_soon_open_by_type_breaches_and_failed_mails(db):
    now = utcnow().replace(microsecond=0)
    before = privacy_dash.privacy_home(now)
    _request(db, timedelta(days=-1))
    _request(db, timedelta(days=-2), kind=RequestType.erasure)
    _request(db, timedelta(days=-3), status=RequestStatus.completed)  # closed: not overdue
    _request(db, timedelta(days=2), kind=RequestType.erasure)
    _request(db, timedelta(days=4, hours=23))
    _request(db, timedelta(days=6))  # later than five days
    _request(db, timedelta(days=1), status=RequestStatus.cancelled)
    for hours_ago, status in ((1, BreachStatus.open), (71, BreachStatus.open), (73, BreachStatus.open), (2, BreachStatus.notified)):
        db.session.add(
            Breach(
                reference=f"B{uid()}"[:20],
                title="Laptop lost",
                nature="A laptop was lost.",
                status=status,
                became_aware_at=now - timedelta(hours=hours_ago),
            )
        )
    db.session.add(MailMessage(kind="test", subject="s", body_text="b", failed_at=now))
    db.session.add(MailMessage(kind="test", subject="s", body_text="b", sent_at=now))
    db.session.commit()

    after = privacy_dash.privacy_home(now + timedelta(seconds=1))
    assert after.overdue.count - before.overdue.count == 2
    assert after.due_soon.count - before.due_soon.count == 2
    by_type = {f.key: f.count for f in after.by_type}
    before_type = {f.key: f.count for f in before.by_type}
    assert by_type["erasure"] - before_type["erasure"] == 2
    assert by_type["access"] - before_type["access"] == 3
    assert after.breaches_in_clock.count - before.breaches_in_clock.count == 2
    assert after.breaches_past_clock.count - before.breaches_past_clock.count == 1
    assert after.failed_mails.count - before.failed_mails.count == 1
    assert after.overdue.filters["_flt_1_status"] == ["completed", "refused", "cancelled"]
    assert after.overdue.filters["_flt_2_due_at"].endswith("Z")


# ------------------------------------------------------------------ internal staff


def test_staff_figures_count_dealers_by_status_pending_terminations_and_users_per_dealer(db):
    before = staff_dash.staff_home()
    soon = utcnow() + timedelta(days=1)
    quiet = new_dealer(db)
    busy = new_dealer(db)
    ending = new_dealer(db, status=DealerStatus.terminated, terminated_at=utcnow(), account_deletion_due_at=soon - timedelta(days=30))
    erased = new_dealer(
        db,
        status=DealerStatus.terminated,
        terminated_at=utcnow(),
        account_deletion_due_at=soon,
        account_deleted_at=utcnow(),
        records_erasure_due_at=soon + timedelta(days=900),
    )
    for _ in range(12):
        new_user("DealerStaff", busy.slug)
    new_user("DealerAdmin", quiet.slug)
    new_user("Staff")

    after = staff_dash.staff_home()
    delta = {f.key: f.count - b.count for f, b in zip(after.dealers, before.dealers, strict=True)}
    assert delta == {"active": 2, "terminated": 2}
    assert after.pending_count - before.pending_count == 2
    # The home page shows the first few of each; other tests' dealers share the database,
    # so this test reads its own dealers from the whole lists.
    _count, pending = staff_dash.pending_terminations(limit=100_000)
    by_dealer = {p.dealer_id: p for p in pending}
    assert by_dealer[ending.id].step == staff_dash.ACCOUNT_DELETION
    assert by_dealer[ending.id].due_at.tzinfo is not None
    assert by_dealer[erased.id].step == staff_dash.RECORDS_ERASURE
    users, _with_users, _internal = staff_dash.users_per_dealer(limit=100_000)
    busy_users = next(row for row in users if row.dealer_id == busy.id)
    assert busy_users.figure.count == 12
    assert busy_users.figure.filters == {"_flt_0_dealer": str(busy.id)}
    assert after.internal_users - before.internal_users == 1
    assert after.dealers_with_users - before.dealers_with_users == 2


# ------------------------------------------------------------------ the page and its links


def _listed_stock_numbers(html: str) -> set[str]:
    return set(re.findall(r"T-[0-9a-f]{10}", html))


def test_each_aging_figure_links_to_the_car_list_showing_exactly_its_cars(db, login):
    dealer = new_dealer(db)
    user = new_user("DealerStaff", dealer.slug)
    today = date.today()
    cars = {age: make_car(db, dealer.id, acquired_on=today - timedelta(days=age)).stock_number for age in (5, 45, 75, 120)}
    make_car(db, dealer.id, acquired_on=today - timedelta(days=45), status=CarStatus.sold)
    db.session.commit()

    browser = login(user.username)
    home = browser.get("/").get_data(as_text=True)
    links = re.findall(r'href="(/carmodelview/list/\?[^"]+)" data-figure="aging-(\d)"', home)
    assert len(links) == 4
    for (href, index), age in zip(links, (5, 45, 75, 120), strict=True):
        listed = browser.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200
        assert _listed_stock_numbers(listed.get_data(as_text=True)) == {cars[age]}, (index, href)


@pytest.mark.parametrize(
    ("username", "present", "absent"),
    [
        (
            "north-motors-staff",
            ["chart-aging", "chart-sales", "chart-sources", "chart-stock", 'data-figure="waiting"'],
            ["chart-dealers", 'data-figure="overdue"'],
        ),
        (
            "privacy",
            ['data-figure="overdue"', 'data-figure="due-soon"', "chart-request-types", 'data-figure="failed-mails"'],
            ["chart-aging", "chart-dealers"],
        ),
        ("staff", ["chart-dealers", "home-users", 'data-figure="terminated"'], ["chart-aging", 'data-figure="overdue"']),
        ("admin", ["chart-dealers"], ["chart-aging"]),
    ],
)
def test_each_role_sees_its_own_home(login, username, present, absent):
    html = login(username).get("/").get_data(as_text=True)
    for marker in present:
        assert marker in html, marker
    for marker in absent:
        assert marker not in html, marker


def test_a_privacy_figure_opens_the_filtered_request_list(db, login):
    overdue = _request(db, timedelta(days=-1))
    fresh = _request(db, timedelta(days=20))
    db.session.commit()
    browser = login("privacy")
    home = browser.get("/").get_data(as_text=True)
    href = re.search(r'href="([^"]+)" data-figure="overdue"', home).group(1).replace("&amp;", "&")
    listed = browser.get(href)
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert overdue.reference in text and fresh.reference not in text


def test_the_users_chart_of_fab_is_not_served(login):
    assert login("admin").get("/users/userstats/").status_code == 404


def test_the_home_page_for_a_dealer_reads_ukrainian(db, login):
    dealer = new_dealer(db)
    user = new_user("DealerAdmin", dealer.slug, language="uk")
    make_car(db, dealer.id, acquired_on=date.today())
    db.session.commit()
    html = login(user.username).get("/").get_data(as_text=True)
    this_month = format_date(date.today().replace(day=1), "LLLL yyyy", locale="uk")  # e.g. "грудень 2026"
    assert this_month in html
    assert 'lang="uk"' in html


def test_the_sales_month_and_waiting_figures_link_to_lists_of_exactly_their_rows(db, login):
    dealer = new_dealer(db)
    user = new_user("DealerAdmin", dealer.slug)
    client = add_client(db, new_person(), dealer.id)
    first = date.today().replace(day=1)
    deals = {}
    for label, on, status in (
        ("this", first, SaleStatus.sold),
        ("last", first - timedelta(days=1), SaleStatus.sold),
        ("draft", first, SaleStatus.draft),
    ):
        row = Sale(
            dealer_id=dealer.id,
            deal_number=f"D-{uid()}",
            car=make_car(db, dealer.id),
            buyer=client,
            price_minor=1000,
            currency="EUR",
            sale_date=on,
            status=status,
        )
        db.session.add(row)
        deals[label] = row.deal_number
    waiting = Inquiry(dealer_id=dealer.id, name=f"Wait {uid()}", status=InquiryStatus.new)
    answered = Inquiry(dealer_id=dealer.id, name=f"Done {uid()}", status=InquiryStatus.contacted)
    db.session.add_all([waiting, answered])
    db.session.commit()

    browser = login(user.username)
    home = browser.get("/").get_data(as_text=True)
    month_links = re.findall(r'href="(/salemodelview/list/\?[^"]+)" data-figure="chart-sales-(\d+)"', home)
    assert len(month_links) == 12
    listed = browser.get(month_links[-1][0].replace("&amp;", "&")).get_data(as_text=True)
    assert set(re.findall(r"D-[0-9a-f]{10}", listed)) == {deals["this"]}

    href = re.search(r'href="([^"]+)" data-figure="waiting"', home).group(1).replace("&amp;", "&")
    listed = browser.get(href).get_data(as_text=True)
    assert waiting.name in listed and answered.name not in listed
