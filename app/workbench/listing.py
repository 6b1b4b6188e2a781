"""A dealer's public listing: which cars and photos the public sees, the listing feed's rows
and the schema.org ``Car``/``Offer`` description of a car.

Only an active dealer's published cars that are neither sold, archived nor restricted
(GDPR Art. 18) are listed, and only their photos are served. Nothing about a person is in
here: cars, prices, photos (stored without metadata) and the dealer's business name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.money import from_minor
from app.models import Car, CarPhoto, CarStatus, Condition, Dealer, DealerStatus, MileageUnit

UNLISTED = (CarStatus.sold, CarStatus.archived)
FEED_COLUMNS = (
    "id",
    "vin",
    "stock_number",
    "title",
    "make",
    "model",
    "trim",
    "year",
    "condition",
    "body_type",
    "fuel",
    "transmission",
    "exterior_colour",
    "mileage",
    "mileage_unit",
    "price",
    "price_minor",
    "currency",
    "availability",
    "link",
    "inquiry_link",
    "image_link",
    "additional_image_links",
)
SCHEMA_CONDITION = {Condition.new: "https://schema.org/NewCondition", Condition.used: "https://schema.org/UsedCondition"}
SCHEMA_MILEAGE_UNIT = {MileageUnit.km: "KMT", MileageUnit.mi: "SMI"}

# (car id, photo) -> the photo's public URL; (car id) -> the car's page, inquiry form
PhotoUrl = Callable[[CarPhoto, str], str]
CarUrl = Callable[[Car], str]


def listing_dealer(session: Session, slug: str) -> Dealer | None:
    """The active dealer behind a listing's slug (None: unknown or terminated)."""
    return session.scalars(select(Dealer).where(Dealer.slug == (slug or "").strip().lower(), Dealer.status == DealerStatus.active)).first()


def _listed(dealer: Dealer) -> Any:
    return select(Car).where(
        Car.dealer_id == dealer.id,
        Car.published.is_(True),
        Car.restricted_at.is_(None),
        Car.status.not_in(UNLISTED),
    )


def listed_cars(session: Session, dealer: Dealer) -> list[Car]:
    query = _listed(dealer).options(selectinload(Car.photos)).order_by(Car.listed_on.desc().nulls_last(), Car.id.desc())
    return list(session.scalars(query))


def listed_car(session: Session, dealer: Dealer, car_id: int) -> Car | None:
    return session.scalars(_listed(dealer).where(Car.id == car_id).options(selectinload(Car.photos))).first()


def listed_photo(session: Session, dealer: Dealer, photo_id: int) -> CarPhoto | None:
    """A photo of one of the dealer's listed cars (None for any other photo)."""
    listed = _listed(dealer).with_only_columns(Car.id)
    query = select(CarPhoto).where(CarPhoto.id == photo_id, CarPhoto.dealer_id == dealer.id, CarPhoto.car_id.in_(listed))
    return session.scalars(query).first()


def photos_of(car: Car) -> list[CarPhoto]:
    """Main photo first, then the others in their order."""
    ordered = sorted(car.photos, key=lambda photo: (photo.position, photo.id or 0))
    main = car.main_photo()
    return ([main] if main else []) + [photo for photo in ordered if photo is not main]


def title(car: Car) -> str:
    return " ".join(str(part) for part in (car.year, car.make, car.model, car.trim) if part)


def price_text(car: Car) -> str | None:
    """``"10499.00 EUR"``: the amount a listing feed expects."""
    if car.asking_price_minor is None:
        return None
    return f"{from_minor(car.asking_price_minor, car.currency)} {car.currency}"


def feed_row(car: Car, car_url: CarUrl, inquiry_url: CarUrl, photo_url: PhotoUrl) -> dict[str, Any]:
    images = [photo_url(photo, "large") for photo in photos_of(car)]
    return {
        "id": car.id,
        "vin": car.vin,
        "stock_number": car.stock_number,
        "title": title(car),
        "make": car.make,
        "model": car.model,
        "trim": car.trim,
        "year": car.year,
        "condition": _value(car.condition),
        "body_type": _value(car.body_type),
        "fuel": _value(car.fuel),
        "transmission": _value(car.transmission),
        "exterior_colour": car.exterior_colour,
        "mileage": car.mileage,
        "mileage_unit": _value(car.mileage_unit),
        "price": price_text(car),
        "price_minor": car.asking_price_minor,
        "currency": car.currency,
        "availability": "in stock" if car.status is not CarStatus.reserved else "reserved",
        "link": car_url(car),
        "inquiry_link": inquiry_url(car),
        "image_link": images[0] if images else None,
        "additional_image_links": images[1:],
    }


def car_json_ld(car: Car, dealer: Dealer, car_url: CarUrl, photo_url: PhotoUrl, with_context: bool = True) -> dict[str, Any]:
    """schema.org ``Car`` with its ``Offer``."""
    data: dict[str, Any] = {"@context": "https://schema.org"} if with_context else {}
    data.update(
        {
            "@type": "Car",
            "name": title(car),
            "url": car_url(car),
            "brand": {"@type": "Brand", "name": car.make},
            "model": car.model,
            "vehicleModelDate": str(car.year),
            "vehicleIdentificationNumber": car.vin,
            "sku": car.stock_number,
            "itemCondition": SCHEMA_CONDITION.get(car.condition, SCHEMA_CONDITION[Condition.used]),
            "mileageFromOdometer": {
                "@type": "QuantitativeValue",
                "value": car.mileage or 0,
                "unitCode": SCHEMA_MILEAGE_UNIT.get(car.mileage_unit, "KMT"),
            },
        }
    )
    optional = {
        "vehicleConfiguration": car.trim,
        "bodyType": _value(car.body_type),
        "fuelType": _value(car.fuel),
        "vehicleTransmission": _value(car.transmission),
        "color": car.exterior_colour,
        "vehicleInteriorColor": car.interior_colour,
    }
    data.update({key: value for key, value in optional.items() if value})
    images = [photo_url(photo, "large") for photo in photos_of(car)]
    if images:
        data["image"] = images
    if car.asking_price_minor is not None:
        data["offers"] = {
            "@type": "Offer",
            "price": str(from_minor(car.asking_price_minor, car.currency)),
            "priceCurrency": car.currency,
            "availability": "https://schema.org/InStock"
            if car.status is not CarStatus.reserved
            else "https://schema.org/LimitedAvailability",
            "url": car_url(car),
            "seller": {"@type": "AutoDealer", "name": dealer.business_name},
        }
    return data


def list_json_ld(cars: list[Car], dealer: Dealer, car_url: CarUrl, photo_url: PhotoUrl) -> dict[str, Any]:
    """schema.org ``ItemList`` of the listed cars, each a ``Car`` with its ``Offer``."""
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": dealer.business_name,
        "numberOfItems": len(cars),
        "itemListElement": [
            {"@type": "ListItem", "position": index, "item": car_json_ld(car, dealer, car_url, photo_url, with_context=False)}
            for index, car in enumerate(cars, start=1)
        ],
    }


def _value(member: Any) -> Any:
    return getattr(member, "value", member)
