"""A car's photos: adding several at once (all or nothing), ordering, the main photo,
captions and deleting.

Every upload is checked and re-encoded by ``app.domain.photos`` before anything is written;
the variants go under ``DATA_DIR/photos/<dealer>/<car>/`` with an unguessable name. Files
written for rows that are then not committed are removed again (``app.privacy.files``), and
a deleted photo's files are removed once the deletion is committed (``app.model_events``).
The caller commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.photos import EncodedVariant, PhotoLimits, encode_photo
from app.models import Car, CarPhoto
from app.privacy.files import store_path, written_before_commit

PHOTO_DIR = "photos"
CAPTION_LENGTH = 200


class PhotosRejected(DomainError):
    """One or more uploaded files were refused; nothing was stored. ``messages``: one per file."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages), "file")
        self.messages = messages

    def as_dict(self) -> dict[str, list[str]]:
        return {"file": self.messages}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def limits() -> PhotoLimits:
    return PhotoLimits(max_bytes=int(current_app.config["PHOTO_MAX_BYTES"]), max_pixels=int(current_app.config["PHOTO_MAX_PIXELS"]))


def ordered(car: Car) -> list[CarPhoto]:
    return sorted(car.photos, key=lambda photo: (photo.position, photo.id or 0))


def main_photo(car: Car) -> CarPhoto | None:
    return car.main_photo()


def add_photos(session: Session, car: Car, uploads: Sequence[Upload]) -> list[CarPhoto]:
    """Check every file, then store them all after the car's photos; refuses all of them
    when one is refused. The first photo a car gets is its main photo."""
    _writable(car)
    if not uploads:
        raise PhotosRejected([str(_l("Choose at least one photo."))])
    per_upload = int(current_app.config["PHOTOS_PER_UPLOAD"])
    if len(uploads) > per_upload:
        raise PhotosRejected([ngettext("Upload at most %(num)d photo at once.", "Upload at most %(num)d photos at once.", per_upload)])
    per_car = int(current_app.config["PHOTOS_PER_CAR"])
    if len(car.photos) + len(uploads) > per_car:
        raise PhotosRejected([ngettext("A car can have at most %(num)d photo.", "A car can have at most %(num)d photos.", per_car)])
    encoded, problems = [], []
    for upload in uploads:
        try:
            encoded.append(encode_photo(upload.data, limits(), upload.filename))
        except DomainError as error:
            problems.append(str(error.message))
    if problems:
        raise PhotosRejected(problems)
    position = max((photo.position for photo in car.photos), default=-1) + 1
    has_main = any(photo.is_primary for photo in car.photos)
    added = []
    for offset, variants in enumerate(encoded):
        photo = _store(session, car, variants, position + offset)
        photo.is_primary = not has_main and offset == 0
        added.append(photo)
    session.flush()
    return added


def _store(session: Session, car: Car, variants: dict[str, EncodedVariant], position: int) -> CarPhoto:
    token = secrets.token_hex(12)
    folder = f"{PHOTO_DIR}/{car.dealer_id}/{car.id}"
    paths = {name: f"{folder}/{token}-{name}.jpg" for name in variants}
    written = []
    for name, variant in variants.items():
        target = store_path(paths[name])
        assert target is not None  # our own path, inside the store
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(variant.data)
        written.append(target)
    written_before_commit(session, written)
    large = variants["large"]
    photo = CarPhoto(
        car=car,
        dealer_id=car.dealer_id,
        position=position,
        file_path=paths["large"],
        thumb_path=paths["thumb"],
        width=large.width,
        height=large.height,
        byte_size=len(large.data),
        content_sha256=large.sha256,
    )
    session.add(photo)
    return photo


def photo_of(car: Car, photo_id: int) -> CarPhoto | None:
    return next((photo for photo in car.photos if photo.id == photo_id), None)


def reorder(session: Session, car: Car, photo_ids: Sequence[int]) -> None:
    """``photo_ids``: every photo of the car, once each, in the new order."""
    _writable(car)
    photos = {photo.id: photo for photo in car.photos}
    if sorted(photo_ids) != sorted(photos):
        raise DomainError(_l("The new order must list every photo of this car once."), "order")
    for position, photo_id in enumerate(photo_ids):
        photos[photo_id].position = position
    session.flush()


def set_main(session: Session, car: Car, photo: CarPhoto) -> None:
    _writable(car)
    for other in car.photos:
        other.is_primary = other is photo
    session.flush()


def set_caption(session: Session, car: Car, photo: CarPhoto, caption: str | None) -> None:
    _writable(car)
    text = " ".join((caption or "").split())
    if len(text) > CAPTION_LENGTH:
        raise DomainError(_l("A caption can be at most %(num)d characters long.", num=CAPTION_LENGTH), "caption")
    photo.caption = text or None
    session.flush()


def update_photo(
    session: Session, car: Car, photo: CarPhoto, *, position: int | None = None, main: bool | None = None, caption: str | None = None
) -> None:
    """The REST ``PUT``: move the photo to ``position`` (0 = first), make it the main photo,
    or set its caption (``""`` clears it)."""
    if caption is not None:
        set_caption(session, car, photo, caption)
    if main:
        set_main(session, car, photo)
    elif main is False and photo.is_primary:
        raise DomainError(_l("Choose another photo as the main photo instead."), "main")
    if position is not None:
        others = [p.id for p in ordered(car) if p is not photo]
        if not 0 <= position <= len(others):
            raise DomainError(_l("The position must be between 0 and %(num)d.", num=len(others)), "position")
        reorder(session, car, [*others[:position], photo.id, *others[position:]])


def delete_photo(session: Session, car: Car, photo: CarPhoto) -> None:
    """The row now, its files once the deletion is committed; the next photo becomes main."""
    _writable(car)
    was_main = photo.is_primary
    car.photos.remove(photo)
    session.delete(photo)
    rest = ordered(car)
    for position, other in enumerate(rest):
        other.position = position
    if was_main and rest:
        rest[0].is_primary = True
    session.flush()


def photo_file(photo: CarPhoto, variant: str) -> Path | None:
    """The stored file of a variant (``large``, ``thumb``); None when it is not there."""
    relative = photo.thumb_path if variant == "thumb" else photo.file_path
    path = store_path(relative) if relative else None
    return path if path is not None and path.is_file() else None


def _writable(car: Car) -> None:
    if car.restricted_at is not None:
        raise DomainError(_l("This record is restricted at the request of the person it is about: it cannot be changed or deleted."))
