"""Rows a test makes for itself: unique names and addresses, a dealer, cars, clients, a
person in every table, a whole dealer account. One definition of each, used by every
test module; each builder adds and flushes (or commits, where it says so)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.domain.vin import build_vin
from app.models import (
    Car,
    CarCost,
    CarStatus,
    Client,
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Dealer,
    DealerSocialLink,
    Disclosure,
    Inquiry,
    PageView,
    Sale,
    SaleStatus,
)
from app.models.base import utcnow
from config import DEMO_PASSWORD

# Passwords the password policy accepts.
STRONG = "plum tractor velvet orbit"
OTHER_STRONG = "seven lanterns drift east"


def uid() -> str:
    return uuid.uuid4().hex[:10]


def new_email(prefix: str = "person") -> str:
    return f"{prefix}-{uid()}@example.org"


def new_phone() -> str:
    return f"+4930{random.randrange(10_000_000, 99_999_999)}"  # as the app stores it: no spaces


def new_dealer(db, **values) -> Dealer:
    """A dealer of this test alone; committed."""
    tag = uid()
    values = {"slug": f"t-{tag}", "business_name": f"Test Cars {tag}", "country": "DE", **values}
    dealer = Dealer(**values)
    db.session.add(dealer)
    db.session.commit()
    return dealer


def new_user(role: str, dealer_slug: str | None = None, language: str | None = None):
    """A user of this test alone with the role (at the dealer); password DEMO_PASSWORD."""
    from app.provisioning import create_user

    name = f"u-{uid()}"
    return create_user(name, DEMO_PASSWORD, f"{name}@dealer.example", role, dealer_slug, language=language, check_policy=False)


def make_car(db, dealer_id: int, **values) -> Car:
    """An available car of the dealer; flushed."""
    values = {
        "dealer": db.session.get(Dealer, dealer_id),  # its history rows take the dealer from here
        "stock_number": f"T-{uid()}",
        "vin": build_vin("WVW", "ZZZAU", 2020, "W", random.randrange(1, 999_999)),
        "make": "Volkswagen",
        "model": "Golf",
        "year": 2020,
        "mileage": 1000,
        "currency": "EUR",
        "status": CarStatus.available,
        "asking_price_minor": 1_500_000,
        **values,
    }
    car = Car(**values)
    db.session.add(car)
    db.session.flush()
    return car


def make_client(db, dealer_id: int, address: str | None = None, consent_given: bool = False) -> Client:
    """A client of the dealer; committed."""
    client = Client(
        dealer_id=dealer_id,
        first_name="Cora",
        last_name=f"Client-{uid()}",
        email=address or new_email("visitor"),
        country="DE",
        marketing_consent=consent_given,
    )
    db.session.add(client)
    db.session.commit()
    return client


# -- a person in every table, for erasure ------------------------------------------------


@dataclass
class Person:
    """Who a request is about, and the rows made for them by table."""

    email: str
    phone: str
    first_name: str
    last_name: str
    rows: dict[str, list[int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def identifiers(self) -> list[str]:
        return [self.email, self.phone, self.name, self.first_name, self.last_name]

    def add(self, table: str, row) -> None:
        self.rows.setdefault(table, []).append(row.id)


def new_person(email: str | None = None) -> Person:
    tag = uuid.uuid4().hex[:8]
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    return Person(
        email=email or f"p-{tag}@example.org",
        phone=f"+49151{digits}",
        first_name=f"Pia{tag}",
        last_name=f"Muster{tag}",
    )


def add_client(db, person: Person, dealer_id: int) -> Client:
    client = Client(
        dealer_id=dealer_id,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        phone=person.phone,
        city="Hamburg",
        notes=f"Call {person.first_name} after six",
    )
    db.session.add(client)
    db.session.flush()
    person.add("client", client)
    return client


def add_inquiry(db, person: Person, dealer_id: int, client: Client | None = None, message: str = "Is the car still available?") -> Inquiry:
    inquiry = Inquiry(
        dealer_id=dealer_id,
        client=client,
        name=person.name,
        email=person.email,
        phone=person.phone,
        message=message,
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0",
    )
    db.session.add(inquiry)
    db.session.flush()
    person.add("inquiry", inquiry)
    return inquiry


def add_sale(db, person: Person, client: Client, sale_date: date) -> Sale:
    car = make_car(db, client.dealer_id, year=2019, mileage=42000, acquired_on=date.today() - timedelta(days=2000))
    sale = Sale(
        dealer_id=client.dealer_id,
        deal_number=f"ER-{uid()}",
        car=car,
        buyer=client,
        price_minor=1_500_000,
        currency="EUR",
        sale_date=sale_date,
        status=SaleStatus.sold,
    )
    db.session.add(sale)
    db.session.flush()
    person.add("sale", sale)
    return sale


def add_disclosure(db, person: Person, client: Client) -> Disclosure:
    disclosure = Disclosure(
        dealer_id=client.dealer_id,
        client=client,
        recipient="Finanzpartner AG",
        recipient_email=f"partner-{uuid.uuid4().hex[:8]}@finance.example",
        purpose="Car financing",
        data_categories="contact details, purchase",
        disclosed_on=date.today() - timedelta(days=30),
    )
    db.session.add(disclosure)
    db.session.flush()
    person.add("disclosure", disclosure)
    return disclosure


# -- a customer with an inquiry and a deal, for restriction and rectification -------------


@dataclass
class Customer:
    client: Client
    inquiry: Inquiry
    sale: Sale
    email: str

    @property
    def ids(self) -> dict[str, int]:
        return {"client": self.client.id, "inquiry": self.inquiry.id, "sale": self.sale.id}


def make_customer(db, dealer_id: int, email: str | None = None, consent: bool = False) -> Customer:
    """A client with an inquiry and a (draft) sale at one dealer; committed."""
    email = email or new_email()
    client = Client(
        dealer_id=dealer_id,
        first_name="Pat",
        last_name=f"Person-{uid()}",
        email=email,
        country="DE",
        phone=new_phone(),
        marketing_consent=consent,
    )
    inquiry = Inquiry(dealer_id=dealer_id, client=client, name=client.full_name, email=email, message="Still available?")
    sale = Sale(
        dealer_id=dealer_id,
        deal_number=f"T-{uid()}",
        car=make_car(db, dealer_id),
        buyer=client,
        price_minor=1_400_000,
        currency="EUR",
        status=SaleStatus.draft,
    )
    db.session.add_all([client, inquiry, sale])
    db.session.commit()
    return Customer(client, inquiry, sale, email)


def disclose(db, customer: Customer, recipient_email: str | None) -> Disclosure:
    disclosure = Disclosure(
        dealer_id=customer.client.dealer_id,
        client_id=customer.client.id,
        recipient=f"Bank {uid()}",
        recipient_email=recipient_email,
        purpose="Car finance",
        disclosed_on=date.today() - timedelta(days=3),
    )
    db.session.add(disclosure)
    db.session.commit()
    return disclosure


# -- a whole dealer account --------------------------------------------------------------


@dataclass
class Account:
    dealer_id: int
    slug: str
    admin: str
    staff: str
    admin_id: int
    staff_id: int
    car_id: int
    client_id: int
    restricted_client_id: int
    sale_id: int


def make_account(db, language: str = "de") -> Account:
    """A dealer with a profile, two users and one of every kind of row; committed."""
    from app.provisioning import create_user

    tag = uid()[:8]
    dealer = new_dealer(
        db,
        slug=f"acct-{tag}",
        business_name=f"Acct Cars {tag}",
        legal_name=f"Acct Cars {tag} GmbH",
        address_line1="Hauptstr. 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        phone=new_phone(),
        email=f"office-{tag}@acct.example",
        website="https://acct.example",
    )
    admin = create_user(
        f"acct-admin-{tag}", DEMO_PASSWORD, f"admin-{tag}@acct.example", "DealerAdmin", dealer.slug, language=language, check_policy=False
    )
    staff = create_user(f"acct-staff-{tag}", DEMO_PASSWORD, f"staff-{tag}@acct.example", "DealerStaff", dealer.slug, check_policy=False)
    car = make_car(db, dealer.id, stock_number=f"A-{tag}")
    client = Client(dealer=dealer, first_name="Pat", last_name=f"Buyer-{tag}", email=f"pat-{tag}@example.org", assigned_user_id=staff.id)
    hidden = Client(dealer=dealer, first_name="Res", last_name=f"Tricted-{tag}", email=f"res-{tag}@example.org", restricted_at=utcnow())
    inquiry = Inquiry(
        dealer=dealer, client=client, car=car, name="Pat Buyer", email=client.email, message="Still there?", assigned_user_id=staff.id
    )
    sale = Sale(
        dealer=dealer,
        deal_number=f"D-{tag}",
        car=car,
        buyer=client,
        salesperson_id=admin.id,
        price_minor=1_400_000,
        currency="EUR",
        status=SaleStatus.draft,
    )
    db.session.add_all([client, hidden, inquiry, sale])
    db.session.flush()
    db.session.add_all(
        [
            CarCost(dealer=dealer, car=car, amount_minor=900_000, currency="EUR"),
            DealerSocialLink(dealer=dealer, platform="instagram", url=f"https://instagram.example/{tag}"),
            ConsentRecord(
                dealer=dealer,
                client=client,
                email=client.email,
                purpose=ConsentPurpose.marketing,
                action=ConsentAction.given,
                method=ConsentMethod.staff,
                source="/test",
            ),
            Disclosure(dealer=dealer, client_id=client.id, recipient="Bank", purpose="Car finance", disclosed_on=date.today()),
            PageView(user_id=admin.id, dealer_id=dealer.id, path="/carmodelview/list/", user_agent="test"),
            PageView(user_id=staff.id, dealer_id=dealer.id, path="/clientmodelview/list/", user_agent="test"),
        ]
    )
    db.session.commit()
    return Account(dealer.id, dealer.slug, admin.username, staff.username, admin.id, staff.id, car.id, client.id, hidden.id, sale.id)
