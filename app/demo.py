"""The demo data set (idempotent) and bulk synthetic data for load work."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.domain.grants import ADMIN, DEALER_ADMIN, DEALER_STAFF, PRIVACY_OFFICER, STAFF
from app.domain.vin import build_vin
from app.extensions import db
from app.models import (
    BodyType,
    Car,
    CarCost,
    CarStatus,
    Client,
    ClientSource,
    Condition,
    CostKind,
    Dealer,
    DealerSocialLink,
    Fuel,
    Inquiry,
    InquirySource,
    InquiryStatus,
    Sale,
    SaleStatus,
    SubProcessorCategory,
    Transmission,
)
from app.provisioning import create_user
from config import DEMO_PASSWORD

DEMO_DEALERS = [
    {
        "slug": "north-motors",
        "business_name": "North Motors",
        "legal_name": "North Motors GmbH",
        "address_line1": "Hafenstraße 12",
        "postal_code": "20457",
        "city": "Hamburg",
        "country": "DE",
        "phone": "+49 40 1234567",
        "email": "info@north-motors.example",
        "website": "https://north-motors.example",
        "default_currency": "EUR",
    },
    {
        "slug": "south-cars",
        "business_name": "South Cars",
        "legal_name": "South Cars e.K.",
        "address_line1": "Leopoldstraße 88",
        "postal_code": "80802",
        "city": "München",
        "country": "DE",
        "phone": "+49 89 7654321",
        "email": "hello@south-cars.example",
        "website": "https://south-cars.example",
        "default_currency": "EUR",
    },
]

# (wmi, vds, make, model, trim, body, fuel, gearbox)
MODELS = [
    ("WVW", "ZZZAU", "Volkswagen", "Golf", "1.5 TSI Life", BodyType.hatchback, Fuel.petrol, Transmission.manual),
    ("WBA", "8E110", "BMW", "320d", "Touring", BodyType.estate, Fuel.diesel, Transmission.automatic),
    ("WAU", "ZZZF4", "Audi", "A4", "Avant 40 TDI", BodyType.estate, Fuel.diesel, Transmission.automatic),
    ("VF1", "RJA00", "Renault", "Clio", "Evolution", BodyType.hatchback, Fuel.petrol, Transmission.manual),
    ("TMB", "JG7NE", "Škoda", "Octavia", "Style", BodyType.estate, Fuel.petrol, Transmission.automatic),
    ("5YJ", "3E1EA", "Tesla", "Model 3", "Long Range", BodyType.sedan, Fuel.electric, Transmission.automatic),
    ("JTD", "KB20U", "Toyota", "Yaris", "Hybrid Comfort", BodyType.hatchback, Fuel.hybrid, Transmission.automatic),
    ("WDD", "2050041", "Mercedes-Benz", "C 200", "AMG Line", BodyType.sedan, Fuel.petrol, Transmission.automatic),
]
FIRST = ["Anna", "Lukas", "Mia", "Jonas", "Olena", "Taras", "Sophie", "Felix", "Iryna", "Paul", "Emma", "Noah"]
LAST = ["Schmidt", "Müller", "Weber", "Koval", "Fischer", "Bondarenko", "Wagner", "Becker", "Shevchenko", "Hoffmann"]
COLOURS = ["black", "white", "silver", "blue", "red", "grey"]


def _vin(rng: random.Random, wmi: str, vds: str, year: int) -> str:
    vds = (vds + "ZZZZZ")[:5]
    return build_vin(wmi, vds, year, rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"), rng.randrange(1, 999999))


def _phone(rng: random.Random) -> str:
    return f"+49 151 {rng.randrange(10000000, 99999999)}"


def _add_stock(dealer: Dealer, rng: random.Random, cars: int, clients: int, inquiries: int, sales: int, tag: str) -> dict:
    today = date.today()
    car_rows, client_rows = [], []
    for i in range(cars):
        wmi, vds, make, model, trim, body, fuel, gearbox = rng.choice(MODELS)
        year = rng.randrange(2012, today.year + 1)
        acquired = today - timedelta(days=rng.randrange(1, 150))
        status = rng.choice([CarStatus.available] * 4 + [CarStatus.in_preparation, CarStatus.reserved, CarStatus.acquired])
        car = Car(
            dealer=dealer,
            stock_number=f"{tag}{i + 1:04d}",
            vin=_vin(rng, wmi, vds, year),
            make=make,
            model=model,
            trim=trim,
            year=year,
            body_type=body,
            fuel=fuel,
            transmission=gearbox,
            exterior_colour=rng.choice(COLOURS),
            mileage=0 if year == today.year else rng.randrange(5000, 180000, 100),
            condition=Condition.new if year == today.year else Condition.used,
            status=status,
            published=status in (CarStatus.available, CarStatus.reserved),
            acquired_on=acquired,
            listed_on=acquired + timedelta(days=7) if status == CarStatus.available else None,
            currency=dealer.default_currency,
            asking_price_minor=rng.randrange(8000, 60000, 50) * 100,
        )
        car.costs.append(
            CarCost(
                dealer=dealer,
                kind=CostKind.purchase,
                amount_minor=int(car.asking_price_minor * 0.82),
                currency=car.currency,
                incurred_on=acquired,
            )
        )
        car_rows.append(car)
        db.session.add(car)
    for i in range(clients):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        client = Client(
            dealer=dealer,
            first_name=first,
            last_name=last,
            email=f"{first}.{last}.{tag}{i}@example.com".lower().replace("ü", "ue"),
            phone=_phone(rng),
            city=dealer.city,
            country=dealer.country,
            source=rng.choice(list(ClientSource)),
            marketing_consent=rng.random() < 0.4,
        )
        client_rows.append(client)
        db.session.add(client)
    db.session.flush()
    for i in range(inquiries):
        client = rng.choice(client_rows) if client_rows and rng.random() < 0.6 else None
        name = client.full_name if client else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        received = datetime.now(UTC) - timedelta(hours=rng.randrange(1, 24 * 60))
        db.session.add(
            Inquiry(
                dealer=dealer,
                car=rng.choice(car_rows) if car_rows else None,
                client=client,
                name=name,
                email=client.email if client else None,
                phone=client.phone if client else _phone(rng),
                message="Is the car still available? Could I book a test drive on Saturday?",
                source=rng.choice(list(InquirySource)),
                status=rng.choice(list(InquiryStatus)),
                received_at=received,
            )
        )
    sellable = [c for c in car_rows if c.status in (CarStatus.available, CarStatus.reserved)]
    for i, car in enumerate(sellable[:sales]):
        db.session.add(
            Sale(
                dealer=dealer,
                deal_number=f"{tag}-D{i + 1:04d}",
                car=car,
                buyer=rng.choice(client_rows),
                price_minor=car.asking_price_minor - 50000,
                currency=car.currency,
                sale_date=date.today() - timedelta(days=rng.randrange(0, 30)),
                status=SaleStatus.sold,
            )
        )
    return {"cars": cars, "clients": clients, "inquiries": inquiries, "sales": min(sales, len(sellable))}


# Realistic EU sub-processors for the public list (one removed, to show that section).
DEMO_SUBPROCESSORS = [
    {
        "name": "Hetzner Online GmbH",
        "category": SubProcessorCategory.hosting,
        "country": "DE",
        "dpa_signed_on": date(2024, 1, 10),
        "purpose": "Hosting: servers, database and file storage",
        "location": "Germany (EU)",
        "since": date(2024, 1, 15),
        "website": "https://www.hetzner.com",
    },
    {
        "name": "Brevo SAS",
        "category": SubProcessorCategory.mail,
        "country": "FR",
        "dpa_signed_on": date(2024, 2, 20),
        "purpose": "E-mail delivery of notices and announcements",
        "location": "France (EU)",
        "since": date(2024, 3, 1),
        "website": "https://www.brevo.com",
    },
    {
        "name": "Scaleway SAS",
        "category": SubProcessorCategory.backup,
        "country": "FR",
        "dpa_signed_on": date(2024, 1, 10),
        "purpose": "Encrypted backups (kept up to 90 days)",
        "location": "France (EU)",
        "since": date(2024, 1, 15),
        "website": "https://www.scaleway.com",
    },
    {
        "name": "OVH SAS",
        "category": SubProcessorCategory.mail,
        "country": "FR",
        "dpa_signed_on": date(2023, 5, 25),
        "purpose": "E-mail delivery (replaced by Brevo)",
        "location": "France (EU)",
        "since": date(2023, 6, 1),
        "website": "https://www.ovhcloud.com",
        "removed_days_ago": 60,
    },
]


def _add_demo_subprocessors() -> int:
    """The demo's sub-processors, marked as announced long ago (no e-mails are sent)."""
    from app.models import SubProcessor
    from app.models.base import utcnow

    now = utcnow()
    added = 0
    for spec in DEMO_SUBPROCESSORS:
        spec = dict(spec)
        removed_days_ago = spec.pop("removed_days_ago", None)
        if db.session.scalar(select(SubProcessor.id).where(SubProcessor.name == spec["name"])) is not None:
            continue
        removed_on = (now - timedelta(days=removed_days_ago)).date() if removed_days_ago else None
        db.session.add(SubProcessor(**spec, removed_on=removed_on, notified_at=now))
        added += 1
    db.session.commit()
    return added


def load_demo() -> dict:
    """The contract's demo dealers and users plus realistic stock; safe to run twice."""
    rng = random.Random(20261121)
    created = {"dealers": 0, "users": 0}
    for spec in DEMO_DEALERS:
        dealer = db.session.scalar(select(Dealer).where(Dealer.slug == spec["slug"]))
        if dealer is None:
            dealer = Dealer(**spec)
            dealer.social_links.append(DealerSocialLink(platform="instagram", url=f"https://instagram.com/{spec['slug'].replace('-', '')}"))
            db.session.add(dealer)
            db.session.flush()
            tag = "N" if spec["slug"].startswith("north") else "S"
            _add_stock(dealer, rng, cars=14, clients=12, inquiries=16, sales=3, tag=tag)
            created["dealers"] += 1
    db.session.commit()
    users = [("admin", ADMIN, None), ("staff", STAFF, None), ("privacy", PRIVACY_OFFICER, None)]
    for spec in DEMO_DEALERS:
        users += [(f"{spec['slug']}-admin", DEALER_ADMIN, spec["slug"]), (f"{spec['slug']}-staff", DEALER_STAFF, spec["slug"])]
    sm = current_app.appbuilder.sm
    for username, role, slug in users:
        if sm.find_user(username=username) is None:
            create_user(
                username,
                DEMO_PASSWORD,
                f"{username}@forecourt.example",
                role,
                slug,
                first_name=username.split("-")[0].title(),
                last_name=role,
                check_policy=False,
            )
            created["users"] += 1
    created["sub_processors"] = _add_demo_subprocessors()
    return created


def seed(dealers: int, cars: int, clients: int, inquiries: int, sales: int) -> dict:
    """Synthetic dealers with stock, committed one dealer at a time."""
    rng = random.Random()
    start = db.session.scalar(select(func.count()).select_from(Dealer)) or 0
    totals = {"dealers": 0, "cars": 0, "clients": 0, "inquiries": 0, "sales": 0}
    for n in range(start + 1, start + dealers + 1):
        dealer = Dealer(slug=f"seed-dealer-{n}", business_name=f"Seed Dealer {n}", city="Berlin", country="DE", default_currency="EUR")
        db.session.add(dealer)
        db.session.flush()
        counts = _add_stock(dealer, rng, cars, clients, inquiries, sales, tag=f"X{n}-")
        db.session.commit()
        totals["dealers"] += 1
        for key, value in counts.items():
            totals[key] += value
    return totals
