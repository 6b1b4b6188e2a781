"""REST: a car's photos (contract: ``/api/v1/car/<id>/photos``). Multipart uploads take the
field ``file`` (several files at once, all or nothing). Thin: the rules are
``app.workbench.photos``; another dealer's car or photo is a 404."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length, Range

from app.domain import DomainError
from app.extensions import db
from app.models import Car
from app.views.car_photos import car_in_reach, photos_json, uploads_of
from app.workbench import photos as service


class CarPhotoSchema(Schema):
    id = fields.Integer()
    position = fields.Integer(metadata={"description": "0 is the first photo"})
    main = fields.Boolean(metadata={"description": "The car's main photo (the list's thumbnail, the listing's first)"})
    caption = fields.String()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    thumb_url = fields.String(metadata={"description": "The thumbnail (signed-in users of the car's dealer)"})
    large_url = fields.String(metadata={"description": "The large variant (signed-in users of the car's dealer)"})


class CarPhotoListSchema(Schema):
    result = fields.List(fields.Nested(CarPhotoSchema))


class CarPhotoOrderSchema(Schema):
    order = fields.List(fields.Integer(strict=True), required=True, metadata={"description": "Every photo id of the car, in the new order"})


class CarPhotoPutSchema(Schema):
    position = fields.Integer(strict=True, validate=Range(min=0), metadata={"description": "Move the photo here (0: first)"})
    main = fields.Boolean(truthy={True}, falsy={False}, metadata={"description": "true: make it the main photo"})
    caption = fields.String(validate=Length(max=service.CAPTION_LENGTH), metadata={"description": "An empty text clears it"})


_LIST = "#/components/schemas/CarPhotoListSchema"


class CarPhotoApi(BaseApi):
    resource_name = "car"
    openapi_spec_tag = "Car photos"
    class_permission_name = "CarPhotoApi"
    base_permissions = ["can_get", "can_post", "can_put", "can_delete"]
    openapi_spec_component_schemas = (CarPhotoSchema, CarPhotoListSchema, CarPhotoOrderSchema, CarPhotoPutSchema)

    def _list(self, car: Car, status: int = 200):
        return self.response(status, result=photos_json(car))

    def _saved(self, car: Car, change, status: int = 200):
        try:
            change()
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return self.response_422(message={k: [str(m) for m in v] for k, v in error.as_dict().items()})
        return self._list(car, status)

    @expose("/<int:pk>/photos", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def photos(self, pk: int):
        """A car's photos in their order.
        ---
        get:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The photos, first to last
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/CarPhotoListSchema'}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
        """
        car = car_in_reach(pk)
        return self.response_404() if car is None else self._list(car)

    @expose("/<int:pk>/photos", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def upload(self, pk: int):
        """Add photos to a car.
        ---
        post:
          description: >-
            Every file is checked by its content (JPEG, PNG or WebP; size and pixel limits)
            and stored re-encoded without any metadata. One refused file refuses them all
            (422, one message per file) and nothing is stored.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file:
                      type: array
                      items: {type: string, format: binary}
          responses:
            201:
              description: Stored; all the car's photos
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/CarPhotoListSchema'}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        car = car_in_reach(pk)
        if car is None:
            return self.response_404()
        uploads = uploads_of(request.files.getlist("file"))
        return self._saved(car, lambda: service.add_photos(db.session, car, uploads), 201)

    @expose("/<int:pk>/photos", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    def order(self, pk: int):
        """Put a car's photos in a new order.
        ---
        put:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CarPhotoOrderSchema'}
          responses:
            200:
              description: The photos in their new order
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/CarPhotoListSchema'}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        car = car_in_reach(pk)
        if car is None:
            return self.response_404()
        try:
            body = CarPhotoOrderSchema().load(request.get_json(silent=True) or {})
        except ValidationError as error:
            return self.response_422(message=error.messages)
        return self._saved(car, lambda: service.reorder(db.session, car, body["order"]))

    @expose("/<int:pk>/photos/<int:photo_id>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    def change(self, pk: int, photo_id: int):
        """Move a photo, make it the main photo, or caption it.
        ---
        put:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: photo_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CarPhotoPutSchema'}
          responses:
            200:
              description: All the car's photos after the change
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/CarPhotoListSchema'}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        car = car_in_reach(pk)
        photo = service.photo_of(car, photo_id) if car is not None else None
        if car is None or photo is None:
            return self.response_404()
        try:
            body = CarPhotoPutSchema().load(request.get_json(silent=True) or {})
        except ValidationError as error:
            return self.response_422(message=error.messages)
        return self._saved(
            car,
            lambda: service.update_photo(
                db.session, car, photo, position=body.get("position"), main=body.get("main"), caption=body.get("caption")
            ),
        )

    @expose("/<int:pk>/photos/<int:photo_id>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("delete")
    def delete(self, pk: int, photo_id: int):
        """Delete a photo (its files too, once the deletion is committed).
        ---
        delete:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: photo_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The car's remaining photos
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/CarPhotoListSchema'}
            401: {$ref: '#/components/responses/401'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        car = car_in_reach(pk)
        photo = service.photo_of(car, photo_id) if car is not None else None
        if car is None or photo is None:
            return self.response_404()
        return self._saved(car, lambda: service.delete_photo(db.session, car, photo))
