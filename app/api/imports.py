"""REST: import with preview (contract): ``POST /api/v1/<car|client>/import`` (multipart,
field ``file``; 200 with the per-row preview and the import id), ``GET …/import/<id>``
(status, progress, the preview again), ``POST …/import/<id>/apply`` (202, all or nothing).
Thin: the rules are in ``app.workbench``. Another dealer's import is a 404."""

from __future__ import annotations

import json

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain import DomainError
from app.extensions import db
from app.models import ImportBatch, ImportKind, ImportRow
from app.queueing import import_job_id, import_job_meta
from app.tenancy import NO_DEALER, current_dealer_id, current_user
from app.workbench import imports

_ROW = {
    "type": "object",
    "properties": {
        "row": {"type": "integer", "description": "As the spreadsheet numbers it (the headers are row 1)"},
        "action": {"type": "string", "enum": ["create", "update", "unchanged", "error"]},
        "target_id": {"type": "integer", "nullable": True, "description": "The record an update matched"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}},
        },
        "changes": {"type": "object", "additionalProperties": True, "description": "field: [old, new] (clients: field names only)"},
    },
}
IMPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["car", "client"]},
        "status": {"type": "string", "enum": ["preview", "queued", "applied", "failed"]},
        "language": {"type": "string"},
        "headers": {"type": "array", "items": {"type": "string"}},
        "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
        "missing_columns": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "percent": {"type": "integer"},
        "rows": {"type": "array", "items": _ROW},
    },
}


_DOC_UPLOAD = """Upload a file and get its preview.
        ---
        post:
          description: >-
            Reads a CSV or XLSX file (multipart field "file"; "language": en, uk or de, how
            numbers and dates are written, by default the language of the user; "mapping":
            optional JSON of header position to column). Nothing is written but the preview: 200 with
            the action of every row (create, update, unchanged, error), its errors and its changes, and
            the import id to apply. A file that cannot be read is a 422.
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file]
                  properties:
                    file:
                      type: string
                      format: binary
                    language:
                      type: string
                      enum: [en, uk, de]
                    mapping:
                      type: string
                      description: A JSON object of header positions to column names, as in the mapping of the preview
          responses:
            200:
              description: The preview
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ImportPreview'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
_DOC_SHOW = """An import: its status, progress and preview.
        ---
        get:
          parameters:
          - in: path
            schema:
              type: integer
            name: import_id
          responses:
            200:
              description: The import
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ImportPreview'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
_DOC_APPLY = """Apply a previewed import, all or nothing.
        ---
        post:
          description: >-
            Queues the job that applies every row in one transaction (job id import-<id>);
            sending it again is harmless. A preview with errors, or with unmapped required
            columns, is a 422 and nothing changes. GET the import to follow its progress.
          parameters:
          - in: path
            schema:
              type: integer
            name: import_id
          responses:
            202:
              description: Accepted
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      status:
                        type: string
                      job_id:
                        type: string
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """


class ImportApi(BaseApi):
    """``/api/v1/<kind>/import``: the shared routes of ``CarImportApi`` and ``ClientImportApi``."""

    kind = "car"
    allow_browser_login = True
    openapi_spec_component_schemas = ()

    def _dealer_id(self) -> int | None:
        dealer_id = current_dealer_id()
        return None if dealer_id in (None, NO_DEALER) else dealer_id

    def _batch(self, import_id: int) -> ImportBatch | None:
        batch = db.session.get(ImportBatch, import_id)
        dealer_id = self._dealer_id()
        if batch is None or dealer_id is None or batch.dealer_id != dealer_id or batch.kind is not ImportKind(self.kind):
            return None
        return batch

    def _report(self, batch: ImportBatch) -> dict:
        rows = db.session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number))
        meta = import_job_meta(batch.id) if batch.status.value == "queued" else {}
        total = meta.get("total") or batch.progress_total
        done = 100 if batch.status.value == "applied" else (round(100 * (meta.get("done") or 0) / total) if total else 0)
        return {
            "id": batch.id,
            "kind": batch.kind.value,
            "status": batch.status.value,
            "language": batch.language,
            "headers": batch.headers,
            "mapping": batch.mapping,
            "missing_columns": imports.problems(batch),
            "counts": {"create": batch.to_create, "update": batch.to_update, "unchanged": batch.unchanged, "error": batch.with_errors},
            "percent": done,
            "rows": [
                {
                    "row": row.row_number,
                    "action": row.action,
                    "target_id": row.target_id,
                    "errors": [{"field": field, "message": message} for field, message in row.errors],
                    "changes": row.changes,
                }
                for row in rows
            ],
        }

    def add_api_spec(self, api_spec) -> None:
        if "ImportPreview" not in api_spec.components.schemas:
            api_spec.components.schema("ImportPreview", IMPORT_SCHEMA)
        super().add_api_spec(api_spec)

    @expose("/import", methods=["POST"])
    @protect()
    @safe
    @permission_name("import")
    def import_file(self):
        return self._upload()

    @expose("/import/<int:import_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("import")
    def import_show(self, import_id: int):
        return self._show(import_id)

    @expose("/import/<int:import_id>/apply", methods=["POST"])
    @protect()
    @safe
    @permission_name("import")
    def import_apply(self, import_id: int):
        return self._apply(import_id)

    import_file.__doc__, import_show.__doc__, import_apply.__doc__ = _DOC_UPLOAD, _DOC_SHOW, _DOC_APPLY

    def _upload(self):
        dealer_id = self._dealer_id()
        if dealer_id is None:
            return self.response_404()
        upload = request.files.get("file")
        if upload is None:
            return self.response_422(message={"file": [str(_l("Send the file in the multipart field 'file'."))]})
        language = request.form.get("language") or str(get_locale() or "en")
        try:
            mapping = json.loads(request.form["mapping"]) if request.form.get("mapping") else None
            if mapping is not None and not isinstance(mapping, dict):
                raise ValueError(mapping)
        except ValueError:
            return self.response_422(message={"mapping": [str(_l('Send the mapping as JSON: {"0": "vin", "1": "make"}.'))]})
        data = upload.read(imports.MAX_UPLOAD_BYTES + 1)
        try:
            batch = imports.upload(db.session, dealer_id, getattr(current_user(), "id", None), self.kind, data, language)
            if mapping is not None:
                imports.remap(db.session, batch, {str(k): str(v) for k, v in mapping.items()})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=exc.as_dict())
        return self.response(200, **self._report(batch))

    def _show(self, import_id: int):
        batch = self._batch(import_id)
        if batch is None:
            return self.response_404()
        return self.response(200, **self._report(batch))

    def _apply(self, import_id: int):
        batch = self._batch(import_id)
        if batch is None:
            return self.response_404()
        try:
            imports.confirm(db.session, batch)
            db.session.commit()  # the job is enqueued after this commit
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=exc.as_dict())
        return self.response(202, id=batch.id, status=batch.status.value, job_id=import_job_id(batch.id))


class CarImportApi(ImportApi):
    resource_name = "car"
    kind = "car"
    openapi_spec_tag = "Car import"


class ClientImportApi(ImportApi):
    resource_name = "client"
    kind = "client"
    openapi_spec_tag = "Client import"
