"""The sales flow as one path (issue 13, item 3): "Record sale" on a car with only
sellable cars offered and nothing pre-selected, car ↔ sale ↔ client links, an Edit
button on record pages, "Make client" from an inquiry (matched by e-mail or phone, else
created), pickers that tell rows apart without "__None" or deactivated users, back to
where the person came from after a save, a new inquiry told to the dealer's users (mail
in their language, an unread badge) and the public form idempotent against double submits.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain.grants import DEALER_ADMIN, DEALER_STAFF
from app.domain.sales_flow import car_label, client_label, is_sellable, split_name, user_label
from app.models import Car, CarStatus, Client, Dealer, DealerUser, Inquiry, InquirySource, MailMessage, Sale, SaleStatus
from app.models.base import utcnow
from app.models.sales_flow import make_client_from_inquiry, matching_client, unseen_inquiry_count
from tests.factories import make_car, new_dealer, new_email, new_phone, new_user, uid
from tests.web_support import token_from

# -- plain rules --------------------------------------------------------------------------


def test_a_client_is_named_by_name_email_and_city_in_pickers():
    assert client_label("Anna Fischer", "anna@example.org", "Berlin") == "Anna Fischer · anna@example.org · Berlin"
    assert client_label("Anna Fischer", None, "Köln") == "Anna Fischer · Köln"
    assert client_label("Anna Fischer", "", "  ") == "Anna Fischer"


def test_a_car_is_named_by_stock_number_make_model_and_year():
    assert car_label("N0100", "Volkswagen", "Passat", 2020) == "N0100 · Volkswagen Passat 2020"
    assert car_label("N0101", "Škoda", "Octavia", None) == "N0101 · Škoda Octavia"


def test_a_user_is_named_by_name_and_user_name():
    assert user_label("Lena", "Berg", "lena") == "Lena Berg · lena"
    assert user_label("", "", "lena") == "lena"


def test_sold_archived_or_already_sold_cars_are_not_sellable():
    assert is_sellable("available", has_live_sale=False)
    assert is_sellable("reserved", has_live_sale=False)
    assert not is_sellable("sold", has_live_sale=False)
    assert not is_sellable("archived", has_live_sale=False)
    assert not is_sellable("available", has_live_sale=True)


def test_a_typed_name_splits_into_first_and_last_name():
    assert split_name("Anna Maria Fischer") == ("Anna Maria", "Fischer")
    assert split_name("  Fischer ") == ("Fischer", "")
    assert split_name("") == ("", "")


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture
def shop(app, db):
    """A dealer of this test with an admin and a staff user (both German-speaking)."""
    dealer = new_dealer(db)
    admin = new_user(DEALER_ADMIN, dealer.slug, language="de")
    staff = new_user(DEALER_STAFF, dealer.slug, language="uk")
    db.session.commit()
    return dealer, admin.username, staff.username


def _client(db, dealer_id: int, first: str = "Anna", last: str = "Fischer", **values) -> Client:
    client = Client(dealer_id=dealer_id, first_name=first, last_name=last, country="DE", **values)
    db.session.add(client)
    db.session.commit()
    return client


def _sale(db, car: Car, client: Client, status: SaleStatus = SaleStatus.sold) -> Sale:
    sale = Sale(
        dealer_id=car.dealer_id,
        deal_number=f"SF-{uid()}",
        car=car,
        buyer=client,
        price_minor=1_000_000,
        currency="EUR",
        sale_date=date.today(),
        status=status,
    )
    db.session.add(sale)
    db.session.commit()
    return sale


def _inquiry(db, dealer_id: int, name: str = "Vera Visitor", email: str | None = None, phone: str | None = None) -> Inquiry:
    inquiry = Inquiry(
        dealer=db.session.get(Dealer, dealer_id), name=name, email=email, phone=phone, message="Still there?", source=InquirySource.phone
    )
    db.session.add(inquiry)
    db.session.commit()
    return inquiry


def _options(html: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option of the select ``name``."""
    body = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert body, f"no select {name}"
    found = []
    for attrs, text in re.findall(r"<option([^>]*)>(.*?)</option>", body.group(1), re.DOTALL):
        value = re.search(r'value="([^"]*)"', attrs).group(1)
        found.append((value, text.strip(), "selected" in attrs))
    return found


def _errors(response) -> list[str]:
    """The fields a refused form marks, with their messages (for failure messages)."""
    html = response.get_data(as_text=True)
    return [re.sub(r"\s+", " ", m) for m in re.findall(r'has-error.*?name="([^"]+)".*?help-block[^>]*>(.*?)</', html, re.DOTALL)]


# -- matching an inquiry to a client ------------------------------------------------------


def test_make_client_links_the_dealers_client_with_the_same_email(db, shop):
    dealer, *_ = shop
    address = new_email("anna")
    existing = _client(db, dealer.id, email=address)
    inquiry = _inquiry(db, dealer.id, email=address.upper(), phone=new_phone())
    before = db.session.scalar(select(func.count(Client.id)).where(Client.dealer_id == dealer.id))

    result = make_client_from_inquiry(db.session, inquiry)
    db.session.commit()

    assert (result.client.id, result.created) == (existing.id, False)
    assert inquiry.client_id == existing.id
    assert db.session.scalar(select(func.count(Client.id)).where(Client.dealer_id == dealer.id)) == before


def test_make_client_matches_by_phone_in_any_typed_form(db, shop):
    dealer, *_ = shop
    existing = _client(db, dealer.id, phone="+49 30 12345678")
    inquiry = _inquiry(db, dealer.id, email=new_email(), phone="030 12345678")

    assert matching_client(db.session, dealer.id, inquiry.email, inquiry.phone).id == existing.id
    assert make_client_from_inquiry(db.session, inquiry).client.id == existing.id


def test_make_client_creates_a_client_from_the_inquiry_when_none_matches(db, shop):
    dealer, *_ = shop
    other_dealer = new_dealer(db)
    address = new_email("new")
    _client(db, other_dealer.id, email=address)  # another dealer's client never matches
    inquiry = _inquiry(db, dealer.id, name="Anna Maria Fischer", email=address)

    result = make_client_from_inquiry(db.session, inquiry)
    db.session.commit()

    client = result.client
    assert result.created
    assert (client.dealer_id, client.first_name, client.last_name, client.email) == (dealer.id, "Anna Maria", "Fischer", address)
    assert client.source.value == "phone"
    assert inquiry.client_id == client.id


def test_a_restricted_client_is_never_matched(db, shop):
    dealer, *_ = shop
    address = new_email("kept")
    _client(db, dealer.id, email=address, restricted_at=utcnow())
    assert matching_client(db.session, dealer.id, address, None) is None


def test_make_client_button_links_the_inquiry_and_opens_the_client(db, shop, login):
    dealer, admin, _staff = shop
    inquiry = _inquiry(db, dealer.id, name="Olha Koval", email=new_email("olha"))
    browser = login(admin)
    page = browser.get(f"/inquirymodelview/show/{inquiry.id}").get_data(as_text=True)
    assert "make-client" in page

    response = browser.post_form(f"/inquirymodelview/make_client/{inquiry.id}", {}, form_url=f"/inquirymodelview/show/{inquiry.id}")

    db.session.expire_all()
    client_id = db.session.get(Inquiry, inquiry.id).client_id
    assert client_id is not None
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/clientmodelview/show/{client_id}")
    again = browser.get(f"/inquirymodelview/show/{inquiry.id}").get_data(as_text=True)
    assert "make-client" not in again and f"/clientmodelview/show/{client_id}" in again


def test_make_client_on_another_dealers_inquiry_is_a_404(db, shop, login):
    _dealer, admin, _staff = shop
    other = new_dealer(db)
    inquiry = _inquiry(db, other.id, email=new_email())
    browser = login(admin)
    response = browser.post_form(f"/inquirymodelview/make_client/{inquiry.id}", {}, form_url="/inquirymodelview/list/")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).client_id is None


# -- the sale form's pickers --------------------------------------------------------------


def test_the_sale_form_offers_only_sellable_cars_and_preselects_nothing(db, shop, login):
    dealer, admin, _staff = shop
    buyer = _client(db, dealer.id, email=new_email("anna"), city="Berlin")
    free = make_car(db, dealer.id, stock_number=f"F-{uid()}", make="Volkswagen", model="Passat", year=2020)
    sold = make_car(db, dealer.id, status=CarStatus.sold)
    archived = make_car(db, dealer.id, status=CarStatus.archived)
    drafted = make_car(db, dealer.id)
    db.session.commit()
    _sale(db, drafted, buyer, SaleStatus.draft)
    other_car = make_car(db, new_dealer(db).id)
    db.session.commit()

    html = login(admin).get("/salemodelview/add").get_data(as_text=True)

    cars = _options(html, "car")
    car_ids = {value for value, _text, _sel in cars}
    assert str(free.id) in car_ids
    assert not car_ids & {str(sold.id), str(archived.id), str(drafted.id), str(other_car.id)}
    assert (str(free.id), f"{free.stock_number} · Volkswagen Passat 2020", False) in cars
    for name in ("car", "buyer", "salesperson"):
        options = _options(html, name)
        assert options[0][0] == "" and options[0][2], f"{name}: the empty choice comes first and is selected"
        assert not any(selected for _v, _t, selected in options[1:]), f"{name}: nothing pre-selected"
    assert "__None" not in html
    dealers = _options(html, "dealer")  # the empty choice's text is in the user's language
    assert [(value, selected) for value, _text, selected in dealers] == [("", False), (str(dealer.id), True)], "the one dealer is chosen"
    assert dealers[1][1] == dealer.business_name
    assert (str(buyer.id), f"Anna Fischer · {buyer.email} · Berlin", False) in _options(html, "buyer")


def test_deactivated_users_are_not_offered_as_salesperson(db, shop, login):
    dealer, admin, staff = shop
    gone = new_user(DEALER_STAFF, dealer.slug)
    user = db.session.get(DealerUser, gone.id)
    user.active = False
    db.session.commit()
    html = login(admin).get("/salemodelview/add").get_data(as_text=True)
    offered = {text for _v, text, _s in _options(html, "salesperson")}
    assert any(text.endswith(f"· {staff}") or text == staff for text in offered)
    assert not any(gone.username in text for text in offered)


def test_record_sale_opens_the_form_with_that_car_chosen_and_returns_to_the_car(db, shop, login):
    dealer, admin, _staff = shop
    buyer = _client(db, dealer.id, email=new_email())
    car = make_car(db, dealer.id)
    db.session.commit()
    browser = login(admin)
    car_page = browser.get(f"/carmodelview/show/{car.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]*/salemodelview/add\?[^"]*)"[^>]*class="[^"]*record-sale', car_page)
    assert link, "no Record sale button on a sellable car"
    form_url = link.group(1).replace("&amp;", "&")
    assert f"car={car.id}" in form_url

    form = browser.get(form_url).get_data(as_text=True)
    assert [v for v, _t, selected in _options(form, "car") if selected] == [str(car.id)]
    assert [v for v, _t, selected in _options(form, "buyer") if selected] == [""]

    deal = f"D-{uid()}"
    data = {
        "dealer": dealer.id,
        "deal_number": deal,
        "car": car.id,
        "buyer": buyer.id,
        "salesperson": "",
        "sale_date": date.today().isoformat(),
    }
    response = browser.post_form(form_url, {**data, "currency": "EUR", "price": "12000", "status": "sold"}, form_url=form_url)

    assert response.status_code == 302, _errors(response)
    assert response.headers["Location"] == f"/carmodelview/show/{car.id}"
    sale = db.session.scalars(select(Sale).where(Sale.deal_number == deal)).one()
    assert (sale.car_id, sale.client_id) == (car.id, buyer.id)
    after = browser.get(f"/carmodelview/show/{car.id}").get_data(as_text=True)
    assert f"/salemodelview/show/{sale.id}" in after and "record-sale" not in after


def test_a_car_id_of_another_dealer_in_the_url_chooses_nothing(db, shop, login):
    _dealer, admin, _staff = shop
    foreign = make_car(db, new_dealer(db).id)
    db.session.commit()
    form = login(admin).get(f"/salemodelview/add?car={foreign.id}").get_data(as_text=True)
    assert [v for v, _t, selected in _options(form, "car") if selected] == [""]
    assert str(foreign.id) not in {v for v, _t, _s in _options(form, "car")}


def test_a_sale_links_to_its_car_and_client_and_the_client_lists_it(db, shop, login):
    dealer, admin, _staff = shop
    buyer = _client(db, dealer.id, email=new_email())
    car = make_car(db, dealer.id)
    db.session.commit()
    sale = _sale(db, car, buyer)
    inquiry = _inquiry(db, dealer.id, email=buyer.email)
    inquiry.client_id = buyer.id
    db.session.commit()
    browser = login(admin)
    sale_page = browser.get(f"/salemodelview/show/{sale.id}").get_data(as_text=True)
    assert f'href="/carmodelview/show/{car.id}"' in sale_page
    assert f'href="/clientmodelview/show/{buyer.id}"' in sale_page
    client_page = browser.get(f"/clientmodelview/show/{buyer.id}").get_data(as_text=True)
    assert sale.deal_number in client_page
    assert f"/inquirymodelview/show/{inquiry.id}" in client_page


@pytest.mark.parametrize("view", ["carmodelview", "clientmodelview", "inquirymodelview", "salemodelview"])
def test_every_record_page_has_an_edit_button_that_comes_back(db, shop, login, view):
    dealer, admin, _staff = shop
    buyer = _client(db, dealer.id, email=new_email())
    car = make_car(db, dealer.id)
    db.session.commit()
    ids = {
        "carmodelview": car.id,
        "clientmodelview": buyer.id,
        "inquirymodelview": _inquiry(db, dealer.id, email=new_email()).id,
        "salemodelview": _sale(db, car, buyer).id,
    }
    html = login(admin).get(f"/{view}/show/{ids[view]}").get_data(as_text=True)
    assert f'href="/{view}/edit/{ids[view]}?next=/{view}/show/{ids[view]}"' in html


def test_next_after_a_save_is_followed_only_on_this_site(db, shop, login):
    dealer, admin, _staff = shop
    client = _client(db, dealer.id, email=new_email())
    browser = login(admin)
    data = {"first_name": "Anna", "last_name": "Fischer", "source": "walk_in", "email": client.email, "country": "DE"}
    url = f"/clientmodelview/edit/{client.id}?next=/carmodelview/list/"
    assert browser.post_form(url, data).headers["Location"] == "/carmodelview/list/"
    url = f"/clientmodelview/edit/{client.id}?next=//evil.example/"
    assert "evil.example" not in browser.post_form(url, data).headers["Location"]


# -- a new inquiry is told, and the public form counts once -------------------------------


def _public_form(client, slug: str) -> tuple[str, dict]:
    html = client.get(f"/d/{slug}/inquiry").get_data(as_text=True)
    form_token = re.search(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"', html)
    assert form_token, "no one-time token on the form"
    data = {
        "csrf_token": token_from(html),
        "form_token": form_token.group(1) or form_token.group(2),
        "name": "Vera Visitor",
        "email": new_email("vera"),
        "message": "Is the car still available?",
        "privacy_notice": "y",
    }
    return html, data


def test_the_public_form_sent_twice_stores_one_inquiry_and_thanks_twice(app, db, shop, policy):
    dealer, *_ = shop
    visitor = app.test_client()
    _html, data = _public_form(visitor, dealer.slug)

    first = visitor.post(f"/d/{dealer.slug}/inquiry", data=data)
    second = visitor.post(f"/d/{dealer.slug}/inquiry", data=data)

    assert first.status_code == second.status_code == 200
    assert "inquiry-sent" in first.get_data(as_text=True) and "inquiry-sent" in second.get_data(as_text=True)
    count = db.session.scalar(select(func.count(Inquiry.id)).where(Inquiry.email == data["email"]))
    assert count == 1
    _html, fresh = _public_form(visitor, dealer.slug)
    assert fresh["form_token"] != data["form_token"], "every form shown has its own token"


def test_a_new_public_inquiry_mails_each_user_in_their_language_and_counts_as_unseen(app, db, shop, policy, login):
    dealer, admin, staff = shop
    visitor = app.test_client()
    _html, data = _public_form(visitor, dealer.slug)
    assert visitor.post(f"/d/{dealer.slug}/inquiry", data=data).status_code == 200
    inquiry = db.session.scalars(select(Inquiry).where(Inquiry.email == data["email"])).one()

    mails = db.session.scalars(
        select(MailMessage).where(MailMessage.kind == "new_inquiry", MailMessage.body_text.contains(f"/show/{inquiry.id}"))
    ).all()
    by_user = {m.to_address: m for m in mails}
    admin_user = db.session.scalars(select(DealerUser).where(DealerUser.username == admin)).one()
    staff_user = db.session.scalars(select(DealerUser).where(DealerUser.username == staff)).one()
    assert set(by_user) == {admin_user.email, staff_user.email}
    assert by_user[admin_user.email].language == "de"
    assert by_user[staff_user.email].language == "uk"
    assert data["email"] not in by_user[admin_user.email].body_text, "the mail names no one"

    assert unseen_inquiry_count(db.session, dealer.id) == 1
    browser = login(staff)
    assert re.search(
        r'class="unseen-inquiries".*?<span class="badge">1</span>', browser.get("/carmodelview/list/").get_data(as_text=True), re.DOTALL
    )
    browser.get(f"/inquirymodelview/show/{inquiry.id}")
    assert unseen_inquiry_count(db.session, dealer.id) == 0
    assert "unseen-inquiries" not in browser.get("/carmodelview/list/").get_data(as_text=True)


def test_an_inquiry_entered_by_staff_mails_the_other_users(db, shop, login):
    dealer, admin, staff = shop
    browser = login(staff)
    data = {"dealer": dealer.id, "name": "Caller Example", "phone": new_phone(), "message": "Call back", "source": "phone", "status": "new"}
    response = browser.post_form("/inquirymodelview/add", data)
    assert response.status_code == 302, _errors(response)
    inquiry = db.session.scalars(select(Inquiry).where(Inquiry.phone == data["phone"])).one()
    mails = db.session.scalars(
        select(MailMessage).where(MailMessage.kind == "new_inquiry", MailMessage.body_text.contains(f"/show/{inquiry.id}"))
    ).all()
    admin_user = db.session.scalars(select(DealerUser).where(DealerUser.username == admin)).one()
    assert [m.to_address for m in mails] == [admin_user.email]


# -- search as you type on large tables ---------------------------------------------------


@pytest.fixture
def large_tables(monkeypatch):
    """Every picker counts as large: it searches instead of listing."""
    import app.form_fields

    monkeypatch.setattr(app.form_fields, "PICKER_SEARCH_FROM", 0)


def test_a_large_picker_lists_only_the_chosen_row_and_searches_the_dealers_sellable_cars(db, shop, login, large_tables):
    dealer, admin, _staff = shop
    tag = uid()
    car = make_car(db, dealer.id, model=f"Passat{tag}", stock_number=f"P-{tag}")
    sold = make_car(db, dealer.id, model=f"Passat{tag}", status=CarStatus.sold)
    foreign = make_car(db, new_dealer(db).id, model=f"Passat{tag}")
    db.session.commit()
    browser = login(admin)

    form = browser.get(f"/salemodelview/add?car={car.id}").get_data(as_text=True)
    assert 'data-picker-url="/salemodelview/picker/add/car"' in form
    assert [(v, selected) for v, _t, selected in _options(form, "car")] == [("", False), (str(car.id), True)]
    assert [v for v, _t, _s in _options(form, "buyer")] == [""], "a large picker lists no rows in the page"

    found = browser.get(f"/salemodelview/picker/add/car?q=passat{tag.upper()}").get_json()
    assert found == {"results": [{"id": str(car.id), "text": f"P-{tag} · Volkswagen Passat{tag} 2020"}]}
    assert str(sold.id) not in str(found) and str(foreign.id) not in str(found)
    assert browser.get("/salemodelview/picker/add/nothing").status_code == 404


def test_a_large_picker_takes_a_sent_row_only_when_it_offers_it(db, shop, login, large_tables):
    dealer, admin, _staff = shop
    buyer = _client(db, dealer.id, email=new_email())
    foreign = make_car(db, new_dealer(db).id)
    car = make_car(db, dealer.id)
    db.session.commit()
    browser = login(admin)
    base = {
        "dealer": dealer.id,
        "buyer": buyer.id,
        "sale_date": date.today().isoformat(),
        "currency": "EUR",
        "price": "100",
        "status": "draft",
    }

    refused = browser.post_form("/salemodelview/add", {**base, "deal_number": f"R-{uid()}", "car": foreign.id})
    assert refused.status_code == 200 and not db.session.scalar(select(func.count(Sale.id)).where(Sale.car_id == foreign.id))

    deal = f"OK-{uid()}"
    assert browser.post_form("/salemodelview/add", {**base, "deal_number": deal, "car": car.id}).status_code == 302
    assert db.session.scalars(select(Sale).where(Sale.deal_number == deal)).one().car_id == car.id


def test_a_form_without_the_search_script_keeps_listing_its_rows(db, shop, login, large_tables):
    dealer, admin, _staff = shop
    car = make_car(db, dealer.id)
    db.session.commit()
    form = login(admin).get("/carcostview/add").get_data(as_text=True)
    assert "data-picker-url" not in form
    assert str(car.id) in {v for v, _t, _s in _options(form, "car")}
