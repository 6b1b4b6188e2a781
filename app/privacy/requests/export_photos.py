"""The car photos of a dealer's account package: the stored large variant of every photo
(already without metadata), as ``photos/car-<car id>/<photo id>.jpg``; the ``car_photo``
table part names them. Photos of cars restricted at a person's request stay out, like
the cars' rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Car, CarPhoto
from app.privacy.files import store_path

PHOTO_FOLDER = "photos"


def package_name(photo: CarPhoto) -> str:
    return f"{PHOTO_FOLDER}/car-{photo.car_id}/{photo.id}.jpg"


def account_photo_files(session: Session, dealer_id: int) -> Iterator[tuple[str, Path]]:
    """(name in the package, stored file) of each of the dealer's photos whose file is there."""
    query = (
        select(CarPhoto)
        .join(Car, Car.id == CarPhoto.car_id)
        .where(CarPhoto.dealer_id == dealer_id, Car.restricted_at.is_(None))
        .order_by(CarPhoto.car_id, CarPhoto.position, CarPhoto.id)
    )
    for photo in session.scalars(query):
        path = store_path(photo.file_path) if photo.file_path else None
        if path is not None and path.is_file():
            yield package_name(photo), path
