"""A car's photos on its page: the JSON endpoints the gallery's script calls (session and
CSRF token) and the dealer's own photo files. Thin: the rules are ``app.workbench.photos``.

Another dealer's car, a restricted car (for all but the privacy officer) or a photo of
another car is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, has_access_api
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from app.domain import DomainError
from app.extensions import db
from app.models import Car, CarPhoto
from app.restriction import can_see_restricted
from app.signed_in import current_user
from app.tenancy import current_dealer_id
from app.workbench import photos as service

VARIANTS = ("thumb", "large")


def car_in_reach(car_id: int) -> Car | None:
    """The signed-in user's car (None: another dealer's, restricted, or none)."""
    query = select(Car).where(Car.id == car_id)
    dealer_id = current_dealer_id()
    if dealer_id is not None:
        query = query.where(Car.dealer_id == dealer_id)
    if not can_see_restricted(current_user()):
        query = query.where(Car.restricted_at.is_(None))
    return db.session.scalars(query).first()


def photo_json(photo: CarPhoto) -> dict[str, Any]:
    return {
        "id": photo.id,
        "position": photo.position,
        "main": bool(photo.is_primary),
        "caption": photo.caption or "",
        "width": photo.width,
        "height": photo.height,
        "thumb_url": url_for("CarPhotosView.file", car_id=photo.car_id, photo_id=photo.id, variant="thumb"),
        "large_url": url_for("CarPhotosView.file", car_id=photo.car_id, photo_id=photo.id, variant="large"),
    }


def photos_json(car: Car) -> list[dict[str, Any]]:
    return [photo_json(photo) for photo in service.ordered(car)]


def uploads_of(files: list) -> list[service.Upload]:
    """The uploaded files; each read up to one byte over the size limit (refused as too large)."""
    limit = service.limits().max_bytes + 1
    return [service.Upload(f.filename or "", f.read(limit)) for f in files if f is not None and (f.filename or f.content_length)]


def refused(error: DomainError) -> tuple[Any, int]:
    """422 with the message per field (``file``: one message per refused file)."""
    return jsonify(message={key: [str(m) for m in value] for key, value in error.as_dict().items()}), 422


def list_thumbnail(photo: CarPhoto | None) -> Markup:
    """A car's main photo as a thumbnail in the car list (empty when the car has none)."""
    if photo is None:
        return Markup("")
    src = url_for("CarPhotosView.file", car_id=photo.car_id, photo_id=photo.id, variant="thumb")
    return Markup('<img class="car-list-thumb" src="{}" alt="{}" loading="lazy">').format(src, photo.caption or "")


class CarPhotosView(BaseView):
    route_base = "/car-photos"
    default_view = "photos"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    method_permission_name = {
        "photos": "list",
        "file": "show",
        "upload": "add",
        "order": "edit",
        "change": "edit",
        "delete": "delete",
    }

    def _car(self, car_id: int) -> Car:
        car = car_in_reach(car_id)
        if car is None:
            abort(404)
        return car

    def _photo(self, car: Car, photo_id: int) -> CarPhoto:
        photo = service.photo_of(car, photo_id)
        if photo is None:
            abort(404)
        return photo

    def _saved(self, car: Car, change) -> tuple[Any, int]:
        try:
            change()
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return refused(error)
        return jsonify(result=photos_json(car)), 200

    @expose("/<int:car_id>/", methods=["GET"])
    @has_access_api
    def photos(self, car_id: int):
        return jsonify(result=photos_json(self._car(car_id)))

    @expose("/<int:car_id>/", methods=["POST"])
    @has_access_api
    def upload(self, car_id: int):
        car = self._car(car_id)
        answer, status = self._saved(car, lambda: service.add_photos(db.session, car, uploads_of(request.files.getlist("file"))))
        return answer, 201 if status == 200 else status

    @expose("/<int:car_id>/order", methods=["POST"])
    @has_access_api
    def order(self, car_id: int):
        car = self._car(car_id)
        ids = (request.get_json(silent=True) or {}).get("order")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return refused(DomainError(_("The new order must list every photo of this car once."), "order"))
        return self._saved(car, lambda: service.reorder(db.session, car, ids))

    @expose("/<int:car_id>/<int:photo_id>", methods=["POST"])
    @has_access_api
    def change(self, car_id: int, photo_id: int):
        car = self._car(car_id)
        photo = self._photo(car, photo_id)
        body = request.get_json(silent=True) or {}
        caption = body.get("caption")
        if caption is not None and not isinstance(caption, str):
            return refused(DomainError(_("Not a valid caption."), "caption"))
        main = True if body.get("main") is True else None
        return self._saved(car, lambda: service.update_photo(db.session, car, photo, main=main, caption=caption))

    @expose("/<int:car_id>/<int:photo_id>/delete", methods=["POST"])
    @has_access_api
    def delete(self, car_id: int, photo_id: int):
        car = self._car(car_id)
        photo = self._photo(car, photo_id)
        return self._saved(car, lambda: service.delete_photo(db.session, car, photo))

    @expose("/<int:car_id>/<int:photo_id>/<variant>.jpg", methods=["GET"])
    @has_access
    def file(self, car_id: int, photo_id: int, variant: str):
        if variant not in VARIANTS:
            abort(404)
        photo = self._photo(self._car(car_id), photo_id)
        path = service.photo_file(photo, variant)
        if path is None:
            abort(404)
        response = send_file(path, mimetype="image/jpeg", etag=photo.content_sha256 if variant == "large" else True, max_age=0)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
