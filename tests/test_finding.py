"""Find anything fast, through HTTP: the quick search of each list and each of its fields,
the tenant and restriction guarantees, paging and sorting with a search, the sortable
computed car columns, the filter chips and the visible columns."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import unquote

import pytest

from app.domain.grants import DEALER_STAFF
from app.models import Client, Inquiry, MileageUnit, Sale, SaleStatus
from app.models.base import utcnow
from tests.factories import make_car, new_dealer, new_user, uid

CARS = "/carmodelview/list/"
CLIENTS = "/clientmodelview/list/"
INQUIRIES = "/inquirymodelview/list/"
SALES = "/salemodelview/list/"


@pytest.fixture
def desk(db, login):
    """A dealer of this test, a user of it signed in, and a second dealer."""
    dealer = new_dealer(db)
    other = new_dealer(db)
    user = new_user(DEALER_STAFF, dealer.slug)
    return dealer, other, login(user.username)


def listed(browser, url: str, **params) -> str:
    response = browser.get(url, query_string=params)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def rows(browser, url: str, **params) -> str:
    """The table of the list (empty when it found nothing), without the search box."""
    html = listed(browser, url, **params)
    start = html.find("</thead>")
    return html[start : html.index("</table>", start)] if start >= 0 else ""


def stock_numbers(html: str) -> list[str]:
    return re.findall(r"<td>(S-[0-9A-F]{10}-\d)</td>", html)


def client_at(db, dealer_id, **values) -> Client:
    client = Client(dealer_id=dealer_id, first_name="Anna", last_name=f"Fischer{uid()}", country="DE", **values)
    db.session.add(client)
    db.session.commit()
    return client


def test_quick_search_finds_a_car_by_part_of_its_vin_in_any_case(db, desk):
    dealer, _, browser = desk
    car = make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-2")
    db.session.commit()
    fragment = car.vin[9:15].lower()
    assert stock_numbers(listed(browser, CARS, q=fragment)) == [car.stock_number]


def test_quick_search_finds_a_car_by_stock_number_make_model_and_year(db, desk):
    dealer, _, browser = desk
    tag = uid().upper()
    passat = make_car(db, dealer.id, stock_number=f"S-{tag}-1", make="Volkswagen", model=f"Passat{tag}", year=2019, trim=f"Elegance{tag}")
    golf = make_car(db, dealer.id, stock_number=f"S-{tag}-2", make="Volkswagen", model=f"Golf{tag}", year=2021)
    db.session.commit()
    assert stock_numbers(listed(browser, CARS, q=f"s-{tag}-1")) == [passat.stock_number]
    assert stock_numbers(listed(browser, CARS, q=f"volkswagen passat{tag.lower()}")) == [passat.stock_number]
    assert stock_numbers(listed(browser, CARS, q=f"{tag} 2021")) == [golf.stock_number]
    assert stock_numbers(listed(browser, CARS, q=f"elegance{tag.lower()}")) == [passat.stock_number]
    assert sorted(stock_numbers(listed(browser, CARS, q=tag))) == sorted([passat.stock_number, golf.stock_number])


def test_quick_search_never_finds_another_dealers_car(db, desk):
    dealer, other, browser = desk
    tag = uid().upper()
    mine = make_car(db, dealer.id, stock_number=f"S-{tag}-1")
    theirs = make_car(db, other.id, stock_number=f"S-{tag}-2")
    db.session.commit()
    assert stock_numbers(listed(browser, CARS, q=tag)) == [mine.stock_number]
    assert stock_numbers(listed(browser, CARS, q=theirs.vin)) == []


def test_quick_search_takes_wildcards_literally(db, desk):
    dealer, _, browser = desk
    make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    db.session.commit()
    assert stock_numbers(listed(browser, CARS, q="%")) == []
    assert stock_numbers(listed(browser, CARS, q="S-_")) == []


def test_quick_search_finds_a_client_by_name_email_and_phone_typed_as_people_type_it(db, desk):
    dealer, _, browser = desk
    anna = client_at(db, dealer.id, email=f"Anna.{uid()}@Example.org", phone="+49301234567", city=f"Lübeck{uid()}")
    html = listed(browser, CLIENTS, q=f"anna {anna.last_name.lower()}")
    assert anna.email in html
    assert anna.email in rows(browser, CLIENTS, q=anna.email.split("@")[0].upper())
    assert anna.email in rows(browser, CLIENTS, q="030 123 4567")
    assert anna.email in rows(browser, CLIENTS, q="+49 30 1234567")
    assert anna.email in rows(browser, CLIENTS, q="0049-30-1234567")
    assert anna.email in rows(browser, CLIENTS, q=anna.city[-10:])
    assert anna.email not in rows(browser, CLIENTS, q=f"{anna.last_name} nobody")


def test_quick_search_never_finds_a_restricted_client_or_another_dealers_client(db, desk):
    dealer, other, browser = desk
    restricted = client_at(db, dealer.id, email=f"r-{uid()}@example.org")
    assert restricted.email in rows(browser, CLIENTS, q=restricted.email)
    restricted.restricted_at = utcnow()
    theirs = client_at(db, other.id, email=f"t-{uid()}@example.org")
    db.session.commit()
    assert restricted.email not in rows(browser, CLIENTS, q=restricted.last_name)
    assert restricted.email not in rows(browser, CLIENTS, q=restricted.email)
    assert theirs.email not in rows(browser, CLIENTS, q=theirs.email)


def test_quick_search_finds_an_inquiry_by_name_email_phone_and_car(db, desk):
    dealer, _, browser = desk
    car = make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    name = f"Petra Inquirer{uid()}"
    inquiry = Inquiry(dealer_id=dealer.id, car=car, name=name, email=f"petra-{uid()}@example.org", phone="+49307654321")
    db.session.add(inquiry)
    db.session.commit()
    for q in (name.split()[1].lower(), inquiry.email, "030 7654321", car.stock_number, car.vin[-6:]):
        assert name in rows(browser, INQUIRIES, q=q), q
    assert name not in rows(browser, INQUIRIES, q="030 7654322")


def test_quick_search_finds_a_sale_by_buyer_and_car_but_not_through_a_restricted_buyer(db, desk):
    dealer, _, browser = desk
    car = make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    buyer = client_at(db, dealer.id, email=f"b-{uid()}@example.org")
    deal = f"D-{uid()}"
    db.session.add(
        Sale(
            dealer_id=dealer.id,
            deal_number=deal,
            car=car,
            buyer=buyer,
            sale_date=date.today(),
            price_minor=1_000_000,
            currency="EUR",
            status=SaleStatus.draft,
        )
    )
    db.session.commit()
    for q in (deal, buyer.last_name, buyer.email, car.stock_number, car.vin[-5:]):
        assert deal in rows(browser, SALES, q=q), q
    buyer.restricted_at = utcnow()
    db.session.commit()
    assert deal not in rows(browser, SALES, q=buyer.last_name)
    assert deal in rows(browser, SALES, q=deal)


def test_a_search_keeps_paging_and_sorting(db, desk):
    dealer, _, browser = desk
    tag = uid().upper()
    cars = [make_car(db, dealer.id, stock_number=f"S-{tag}-{n}", asking_price_minor=100_000 * (n + 1)) for n in range(4)]
    db.session.commit()
    view = "CarModelView"
    first = listed(browser, CARS, q=tag, **{f"psize_{view}": 3, f"_oc_{view}": "asking_price_display", f"_od_{view}": "desc"})
    assert stock_numbers(first) == [c.stock_number for c in reversed(cars)][:3]
    second = listed(
        browser, CARS, q=tag, **{f"psize_{view}": 3, f"page_{view}": 1, f"_oc_{view}": "asking_price_display", f"_od_{view}": "desc"}
    )
    assert stock_numbers(second) == [cars[0].stock_number]
    # FAB's own paging and sorting links carry the search on.
    links = [unquote(link) for link in re.findall(r'href="([^"]*page_CarModelView=1[^"]*)"', first)]
    assert links and all(f"q={tag}" in link for link in links)


def test_price_mileage_and_days_in_stock_are_sortable(db, desk):
    dealer, _, browser = desk
    tag = uid().upper()
    today = date.today()
    a = make_car(
        db,
        dealer.id,
        stock_number=f"S-{tag}-1",
        asking_price_minor=300,
        mileage=1000,
        mileage_unit=MileageUnit.mi,
        acquired_on=today - timedelta(days=5),
    )
    b = make_car(db, dealer.id, stock_number=f"S-{tag}-2", asking_price_minor=100, mileage=1500, acquired_on=today - timedelta(days=50))
    c = make_car(db, dealer.id, stock_number=f"S-{tag}-3", asking_price_minor=200, mileage=10, acquired_on=today - timedelta(days=20))
    db.session.commit()
    view = "CarModelView"
    html = listed(browser, CARS)
    for column in ("asking_price_display", "mileage_display", "days_in_stock"):
        assert f"_oc_{view}={column}" in html, column

    def order(column, direction="asc"):
        return stock_numbers(listed(browser, CARS, q=tag, **{f"_oc_{view}": column, f"_od_{view}": direction}))

    assert order("asking_price_display") == [b.stock_number, c.stock_number, a.stock_number]
    # 1000 mi is 1609 km: more than 1500 km.
    assert order("mileage_display") == [c.stock_number, b.stock_number, a.stock_number]
    assert order("days_in_stock", "desc") == [b.stock_number, c.stock_number, a.stock_number]


def test_active_filters_show_as_chips_that_remove_themselves(db, desk):
    dealer, _, browser = desk
    tag = uid().upper()
    make_car(db, dealer.id, stock_number=f"S-{tag}-1", make="Skoda")
    db.session.commit()
    html = listed(browser, CARS, q=tag, _flt_0_make="Skoda")
    chips = re.findall(r'<li class="forecourt-chip"><span>([^<]*)</span>\s*<a href="([^"]*)"', html)
    labels = [label for label, _ in chips]
    assert labels == [f"Search: {tag}", "Make starts with: Skoda"]
    removal = dict(chips)
    assert "_flt_0_make" not in removal[f"Search: {tag}"] or "q=" not in removal[f"Search: {tag}"]
    without_search = removal[f"Search: {tag}"].replace("&amp;", "&")
    assert "q=" not in without_search and "_flt_0_make=Skoda" in without_search


def test_the_chip_of_a_relation_names_only_a_record_the_user_may_see(db, desk):
    dealer, other, browser = desk
    theirs = make_car(db, other.id, stock_number=f"S-{uid().upper()}-9")
    db.session.commit()
    html = listed(browser, INQUIRIES, _flt_0_car=str(theirs.id))
    assert theirs.stock_number not in html
    assert f"<span>Car: {theirs.id}</span>" in html
    mine = make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-8")
    db.session.commit()
    assert f"<span>Car: {mine}</span>" in listed(browser, INQUIRIES, _flt_0_car=str(mine.id))


def test_a_too_long_search_is_refused_with_a_message_and_filters_nothing(db, desk):
    dealer, _, browser = desk
    car = make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    db.session.commit()
    html = listed(browser, CARS, q="x" * 101)
    assert "Search for at most 100 characters." in html
    assert car.stock_number in html


def test_visible_columns_follow_the_columns_parameter(db, desk):
    dealer, _, browser = desk
    make_car(db, dealer.id, stock_number=f"S-{uid().upper()}-1")
    db.session.commit()
    html = listed(browser, CARS, cols="stock_number,asking_price_display")
    header = html[html.index("<thead>") : html.index("</thead>")]
    assert "Stock no." in header and "Asking price" in header
    assert "Mileage" not in header and "Make" not in header
    assert "Mileage" in listed(browser, CARS, cols="no_such_column")


def test_every_list_of_a_dealer_user_has_the_quick_search(desk):
    _, _, browser = desk
    for url in (CARS, CLIENTS, INQUIRIES, SALES, "/disclosuremodelview/list/"):
        html = listed(browser, url)
        assert 'name="q"' in html and 'class="forecourt-quick-search"' in html, url
