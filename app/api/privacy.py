"""REST resource ``privacy_request`` (contract): list, show, file, process, download.

The same tenant rule as the web queue: the privacy officer sees every request, a dealer
admin only its own dealer's (another dealer's, or a whole-platform request, is a 404).
Requests are append-only: no PUT, no DELETE; filing goes through the request service.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Length, OneOf
from sqlalchemy import select

from app.datamodel import ForecourtInterface
from app.domain import DomainError
from app.extensions import db
from app.models import PrivacyRequest, RequestStatus, RequestType
from app.privacy.requests import erasure_preview
from app.privacy.requests import intake as request_service
from app.privacy.requests.export_files import ExportUnavailable
from app.privacy.requests.on_behalf import file_on_behalf, not_queued_message
from app.privacy.requests.processing import request_processing
from app.privacy.requests.progress import percent
from app.privacy.requests.subjects import mask
from app.public.downloads import download_response
from app.queueing import job_meta, try_enqueue_request
from app.tenancy import TenantModelRestApi, current_dealer_id, current_user
from config import Config


class PrivacyRequestPostSchema(Schema):
    """What staff send to file a request (identifiers may come from ``client``)."""

    request_type = fields.String(required=True, validate=OneOf([t.value for t in RequestType]))
    email = fields.String(allow_none=True, validate=Length(max=254))
    phone = fields.String(allow_none=True, validate=Length(max=40))
    name = fields.String(allow_none=True, validate=Length(max=200))
    dealer = fields.Integer(allow_none=True, metadata={"description": "Scope: a dealer id, or null for the whole platform"})
    client = fields.Integer(allow_none=True, metadata={"description": "One of the dealer's clients"})
    details = fields.String(allow_none=True, validate=Length(max=5000))
    language = fields.String(load_default="en", validate=OneOf(list(Config.LANGUAGES)))


_SUMMARY = [
    "id",
    "reference",
    "request_type",
    "status",
    "channel",
    "dealer.id",
    "subject_hint",
    "received_at",
    "due_at",
    "phase",
    "progress_done",
    "progress_total",
    "export_expires_at",
    "possible_duplicate_of.id",
]


class PrivacyRequestApi(TenantModelRestApi):
    resource_name = "privacy_request"
    datamodel = ForecourtInterface(PrivacyRequest)
    include_route_methods = {"get", "get_list", "post", "info", "process", "download"}
    list_columns = _SUMMARY
    show_columns = _SUMMARY + [
        "client.id",
        "subject_email",
        "subject_phone",
        "subject_name",
        "language",
        "details",
        "original_due_at",
        "extended_at",
        "extension_reason",
        "verified_at",
        "started_at",
        "completed_at",
        "refused_at",
        "refusal_reason",
        "cancelled_at",
        "failure",
        "erasure_preview",
        "erasure_confirmed_at",
        "certificate",
        "rectification_proposal",
        "export_created_at",
        "export_size",
        "export_sha256",
    ]
    order_columns = ["received_at", "due_at", "reference", "status"]
    base_order = ("due_at", "asc")
    search_columns = ["reference", "request_type", "status", "channel", "dealer", "received_at", "due_at"]
    add_model_schema = PrivacyRequestPostSchema()
    add_columns = list(PrivacyRequestPostSchema().fields)
    # No PUT route: requests change only through their actions. FAB still describes an
    # edit schema in ``_info``; keep it to the one free-text field.
    edit_columns = ["details"]

    # ------------------------------------------------------------------ reading

    def pre_get_list(self, data: dict) -> None:
        """Lists show a masked identifier, never a full one."""
        ids = data.get("ids") or []
        emails = dict(db.session.execute(select(PrivacyRequest.id, PrivacyRequest.subject_email).where(PrivacyRequest.id.in_(ids))).all())
        for pk, row in zip(ids, data.get("result") or []):
            if "subject_hint" in row:
                row["subject_hint"] = row["subject_hint"] or mask(emails.get(pk))

    def pre_get(self, data: dict) -> None:
        """Status, due date and progress, with the job's own view of it (``{"status":
        "unknown"}`` while Redis is unreachable: the database's state is still shown)."""
        item = db.session.get(PrivacyRequest, data["id"])
        result = data["result"]
        result["due_state"] = request_service.due_state(item)
        result["percent"] = percent(item)
        result["job"] = _job(item.id)
        if "subject_hint" in result:
            result["subject_hint"] = result["subject_hint"] or mask(item.subject_email)

    def _item(self, pk: int) -> PrivacyRequest | None:
        return self.datamodel.get(pk, self._base_filters)

    # ------------------------------------------------------------------ filing

    def post_headless(self):
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        try:
            body = self.add_model_schema.load(request.json)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        try:
            item = file_on_behalf(
                db.session,
                dealer_id=current_dealer_id(),
                actor_id=getattr(current_user(), "id", None),
                request_type=body["request_type"],
                email=body.get("email"),
                phone=body.get("phone"),
                name=body.get("name"),
                chosen_dealer_id=body.get("dealer"),
                client_id=body.get("client"),
                details=body.get("details"),
                language=body.get("language") or "en",
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=exc.as_dict())
        return self.response(201, id=item.id, result=self.show_model_schema.dump(item))

    # ------------------------------------------------------------------ actions

    @expose("/<int:pk>/process", methods=["POST"])
    @protect()
    @safe
    @permission_name("process")
    def process(self, pk: int):
        """Carry out a verified request.
        ---
        post:
          description: >-
            Start processing a verified request: the request is marked in progress (committed
            to the database, the source of truth) and a job (id privacy-request-<id>) is
            enqueued. The answer is 202 either way; "queued" says whether the job is on the
            queue. When the queue (Redis) is unreachable, "queued" is false and "message"
            says so: the request stays in progress and the reconciler enqueues it as soon as
            the queue is back, so do not send it again. Sending it again is harmless anyway
            (same job id). An erasure first answers 409 with its preview; send
            {"confirm": true} to start it.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    confirm:
                      type: boolean
          responses:
            202:
              description: >-
                Accepted: the request is in progress. "queued" false means the queue is
                unreachable and the job will be enqueued when it is back.
              content:
                application/json:
                  schema:
                    type: object
                    required: [job_id, status, queued]
                    properties:
                      job_id:
                        type: string
                      status:
                        type: string
                      queued:
                        type: boolean
                        description: Whether the job is on the queue now
                      message:
                        type: string
                        description: Only when queued is false, a translated explanation
            409:
              description: An erasure needs its preview confirmed
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        item = self._item(pk)
        if item is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        confirm = body.get("confirm") is True
        actor_id = getattr(current_user(), "id", None)
        try:
            if (
                item.request_type is RequestType.erasure
                and item.status is RequestStatus.verified
                and (item.erasure_preview is None or not confirm)
            ):
                preview = erasure_preview.preview(db.session, item, actor_id=actor_id)
                db.session.commit()
                return self.response(
                    409,
                    message=str(_l('Check the erasure preview, then send {"confirm": true} to start the erasure.')),
                    erasure_preview=preview,
                )
            request_processing(db.session, item, actor_id, confirm_erasure=confirm)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=exc.as_dict())
        enqueued = try_enqueue_request(item.id)
        if not enqueued.queued:
            return self.response(
                202, job_id=enqueued.job_id, status=item.status.value, queued=False, message=str(not_queued_message(item.reference))
            )
        return self.response(202, job_id=enqueued.job_id, status=item.status.value, queued=True)

    @expose("/<int:pk>/download", methods=["GET"])
    @protect()
    @safe
    @permission_name("download")
    def download(self, pk: int):
        """The export package of an access or portability request.
        ---
        get:
          description: >-
            The ZIP of a completed access or portability request (never cached; each
            download is logged on the request).
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The ZIP
              content:
                application/zip:
                  schema:
                    type: string
                    format: binary
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        item = self._item(pk)
        if item is None:
            return self.response_404()
        try:
            return download_response(item, actor_id=getattr(current_user(), "id", None))
        except ExportUnavailable:
            return self.response_404()


def _job(request_id: int) -> dict:
    meta = job_meta(request_id)
    return {key: getattr(value, "value", value) for key, value in meta.items()}
