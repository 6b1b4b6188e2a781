"""Import with preview, in the browser: upload a CSV/XLSX file, see per row what will be
created or updated and every error, map unknown headers, confirm, watch the job apply it.
Thin: the rules are in ``app.workbench.importing``, the work in ``app.workbench.imports``."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import SelectField

from app.extensions import db
from app.models import ImportBatch, ImportKind, ImportRow, ImportStatus
from app.queueing import import_job_meta
from app.saving import saving
from app.tenancy import NO_DEALER, current_dealer_id, current_user
from app.workbench import imports
from app.workbench.importing import columns_of
from app.workbench.labels import COLUMN_LABELS

KINDS = {"car": _l("Import cars"), "client": _l("Import clients")}
LANGUAGE_CHOICES = [("en", "English"), ("uk", "Українська"), ("de", "Deutsch")]
PREVIEW_ROWS = 500  # rows shown on the page (errors first); the counts cover every row
TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"))
    language = SelectField(_l("Numbers and dates are written in"), choices=LANGUAGE_CHOICES)


class ConfirmImportForm(FlaskForm):
    """CSRF only: the mapping and confirm buttons."""


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _dealer_id() -> int:
    dealer_id = current_dealer_id()
    if dealer_id is None or dealer_id == NO_DEALER:
        abort(404)  # imports belong to a dealer: internal staff have none
    return dealer_id


class ImportView(BaseView):
    route_base = "/import"
    default_view = "upload"
    method_permission_name = {
        "upload": "import",
        "upload_post": "import",
        "template": "import",
        "preview": "import",
        "mapping": "import",
        "apply": "import",
        "progress": "import",
    }

    def _batch(self, kind: str, pk: int) -> ImportBatch:
        batch = db.session.get(ImportBatch, pk)
        if batch is None or batch.dealer_id != _dealer_id() or batch.kind is not ImportKind(kind):
            abort(404)
        return batch

    def _upload_page(self, kind: str, form: UploadForm, status: int = 200, has_dealer: bool = True):
        labels = [str(label) for label in COLUMN_LABELS[kind].values()]
        html = self.render_template(
            "workbench/import_upload.html",
            kind=kind,
            title=str(KINDS[kind]),
            form=form,
            labels=labels,
            languages=LANGUAGE_CHOICES,
            has_dealer=has_dealer,
        )
        return html, status

    @expose("/<kind>/", methods=["GET"])
    @has_access
    def upload(self, kind):
        """The upload form; internal staff (no dealer) read what it is for, and the templates."""
        kind = _kind(kind)
        form = UploadForm(language=str(get_locale() or "en"))
        return self._upload_page(kind, form, has_dealer=current_dealer_id() not in (None, NO_DEALER))

    @expose("/<kind>/", methods=["POST"])
    @has_access
    def upload_post(self, kind):
        kind = _kind(kind)
        dealer_id = _dealer_id()
        form = UploadForm()
        if not form.validate_on_submit():
            flash(_("Please check the form."), "danger")
            return self._upload_page(kind, form, 422)
        upload = request.files.get("file")
        data = upload.read(imports.MAX_UPLOAD_BYTES + 1) if upload is not None else b""
        with saving(form) as saved:
            batch = imports.upload(db.session, dealer_id, getattr(current_user(), "id", None), kind, data, form.language.data)
        if not saved.ok:
            return self._upload_page(kind, form, 422)
        return redirect(url_for("ImportView.preview", kind=kind, pk=batch.id))

    @expose("/<kind>/template.<file_format>")
    @has_access
    def template(self, kind, file_format):
        kind = _kind(kind)
        language = request.args.get("language") or str(get_locale() or "en")
        if file_format not in TYPES or language not in dict(LANGUAGE_CHOICES):
            abort(404)
        body = imports.template(kind, language, file_format)
        name = f"forecourt-{kind}s-{language}.{file_format}"
        return Response(body, mimetype=TYPES[file_format], headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @expose("/<kind>/<int:pk>")
    @has_access
    def preview(self, kind, pk):
        kind = _kind(kind)
        batch = self._batch(kind, pk)
        shown = db.session.scalars(
            select(ImportRow)
            .where(ImportRow.batch_id == batch.id)
            .order_by((ImportRow.action != "error"), ImportRow.row_number)
            .limit(PREVIEW_ROWS)
        ).all()
        labels = {name: str(label) for name, label in COLUMN_LABELS[kind].items()}
        return self.render_template(
            "workbench/import_preview.html",
            kind=kind,
            title=str(KINDS[kind]),
            batch=batch,
            rows=shown,
            labels=labels,
            columns=[c.name for c in columns_of(kind)],
            problems=[labels.get(name, name) for name in imports.problems(batch)],
            form=ConfirmImportForm(),
            ImportStatus=ImportStatus,
            percent=_percent(batch, import_job_meta(batch.id) if batch.status is ImportStatus.queued else {}),
        )

    @expose("/<kind>/<int:pk>/mapping", methods=["POST"])
    @has_access
    def mapping(self, kind, pk):
        kind = _kind(kind)
        batch = self._batch(kind, pk)
        if ConfirmImportForm().validate_on_submit():
            chosen = {str(i): request.form.get(f"column-{i}", "") for i in range(len(batch.headers))}
            with saving():
                imports.remap(db.session, batch, chosen)
        else:
            flash(_("Please check the form."), "danger")
        return redirect(url_for("ImportView.preview", kind=kind, pk=pk))

    @expose("/<kind>/<int:pk>/apply", methods=["POST"])
    @has_access
    def apply(self, kind, pk):
        kind = _kind(kind)
        batch = self._batch(kind, pk)
        if not ConfirmImportForm().validate_on_submit():
            flash(_("Please check the form."), "danger")
            return redirect(url_for("ImportView.preview", kind=kind, pk=pk))
        with saving() as saved:  # the job is queued after this commit
            imports.confirm(db.session, batch)
        if saved.ok:
            flash(_("The import is being applied; this page shows how far it is."), "success")
        return redirect(url_for("ImportView.preview", kind=kind, pk=pk))

    @expose("/<kind>/<int:pk>/progress")
    @has_access
    def progress(self, kind, pk):
        """What the progress bar polls."""
        batch = self._batch(_kind(kind), pk)
        meta = import_job_meta(batch.id) if batch.status is ImportStatus.queued else {}
        return jsonify(status=batch.status.value, percent=_percent(batch, meta), done=meta.get("done", batch.progress_done))


def _percent(batch: ImportBatch, meta: dict) -> int:
    if batch.status is ImportStatus.applied:
        return 100
    total = meta.get("total") or batch.progress_total
    return min(100, round(100 * (meta.get("done") or 0) / total)) if total else 0
