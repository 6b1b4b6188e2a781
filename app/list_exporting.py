"""List exports on the web: every tenant-scoped list (HTML and REST) can be taken out as
CSV or XLSX exactly as it is filtered and sorted, with FAB's own filter and order parsing
and the view's base filters (tenant, Art. 18 restriction) applied like on the list.

The rules (columns, cell values, formula neutralisation, writing) are in
``app.workbench.list_export``; this module reads the request, answers small exports at once,
hands big ones (more rows than ``LIST_EXPORT_INLINE_ROWS``) to an RQ job whose file is
downloaded from the list later, and records each export in the usage log.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, send_file, stream_with_context, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import protect, rison, safe
from flask_appbuilder.api.schemas import get_list_schema
from flask_appbuilder.exceptions import InvalidOrderByColumnFABException
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import gettext

from app.queueing import enqueue_list_export, fetch_job, list_export_job_id
from app.signed_in import current_user
from app.usage_tracking import log_feature_use
from app.workbench.list_export import (
    MIME_TYPES,
    ExportError,
    check_choice,
    compile_columns,
    csv_chunks,
    export_columns,
    file_name,
    write_export,
)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def export_dir(user_id: int) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "list-exports" / str(user_id)


def list_query(datamodel: Any, filters: Any, order_column: str, order_direction: str):
    """The list's query (filters, base filters, order; no page) as FAB builds it."""
    query = datamodel.session.query(datamodel.obj)
    return datamodel.apply_all(query, filters, order_column, order_direction)


class ListExport:
    """One export of one list: its columns, converters and rows."""

    def __init__(self, datamodel: Any, names: list[str], labels: dict[str, Any], query: Any, fmt: str, mode: str) -> None:
        self.fmt, self.mode = fmt, mode
        self.query = query
        columns = export_columns(datamodel.obj, names, labels)
        self.compiled, expressions = compile_columns(columns, fmt, mode, datamodel.session)
        self.rows_query = query.with_entities(*expressions).yield_per(1000)

    def count(self) -> int:
        return self.query.order_by(None).count()

    def write(self, target, title: str) -> None:
        write_export(self.rows_query, self.compiled, self.fmt, target, title)

    def response(self, base_name: str, title: str) -> Response:
        name = file_name(base_name, self.fmt)
        if self.fmt == "csv":
            body = stream_with_context(csv_chunks(self.rows_query, self.compiled))
            response = Response(body, mimetype=MIME_TYPES["csv"])
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
        self.write(spool, title)
        spool.seek(0)
        return send_file(spool, mimetype=MIME_TYPES["xlsx"], as_attachment=True, download_name=name)


class ListExportViewMixin:
    """``/<view>/export_list`` (and ``/export_list/file/<token>`` for big ones) on a ModelView."""

    export_columns: list[str] | None = None  # default: the list's columns that are SQL columns

    def export_column_names(self) -> list[str]:
        return list(self.export_columns or self.list_columns)

    def build_export(self, fmt: str, mode: str) -> ListExport:
        """The export of the list as the request's arguments filter and sort it."""
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        get_filter_args(self._filters)
        filters = self._filters.get_joined_filters(self._base_filters)
        query = list_query(self.datamodel, filters, order_column, order_direction)
        return ListExport(self.datamodel, self.export_column_names(), self.label_columns, query, fmt, mode)

    @expose("/export_list")
    @has_access
    @permission_name("list")
    def export_list(self):
        try:
            fmt, mode = check_choice(request.args.get("format"), request.args.get("mode"))
        except ExportError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        export = self.build_export(fmt, mode)
        log_feature_use(f"list_export:{self.endpoint}:{fmt}:{mode}")
        if export.count() > current_app.config["LIST_EXPORT_INLINE_ROWS"]:
            return self._export_in_background(fmt, mode)
        return export.response(self.endpoint, str(self.list_title or self.endpoint))

    def _export_in_background(self, fmt: str, mode: str):
        user = current_user()
        token = secrets.token_urlsafe(18)
        args = [(key, value) for key, value in request.args.items(multi=True) if key not in ("format", "mode")]
        enqueue_list_export(self.endpoint, args, user.id, fmt, mode, str(_locale()), token)
        flash(gettext("This list is large: its export is being prepared. The next page shows its download link when it is ready."), "info")
        return redirect(url_for(f"{self.endpoint}.export_list_file", token=token, format=fmt))

    @expose("/export_list/file/<token>")
    @has_access
    @permission_name("list")
    def export_list_file(self, token: str):
        fmt = request.args.get("format", "")
        if not TOKEN.match(token) or fmt not in MIME_TYPES:
            abort(404)
        path = export_dir(current_user().id) / f"{token}.{fmt}"
        if path.is_file():
            if request.args.get("download"):
                return send_file(path, mimetype=MIME_TYPES[fmt], as_attachment=True, download_name=file_name(self.endpoint, fmt))
            link = url_for(f"{self.endpoint}.export_list_file", token=token, format=fmt, download=1)
            return self.render_template("forecourt/export_waiting.html", failed=False, download_url=link)
        job = fetch_job(list_export_job_id(token))
        if job is None or job.args[2] != current_user().id:  # (endpoint, args, user_id, …)
            abort(404)
        failed = job.is_failed
        return self.render_template("forecourt/export_waiting.html", failed=failed)


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


class ListExportApiMixin:
    """``GET /api/v1/<resource>/export?format=csv|xlsx&mode=human|machine&q=<rison>``."""

    export_columns: list[str] | None = None

    @expose("/export", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_list_schema)
    def export_list(self, **kwargs):
        """Export the list (as filtered and sorted by ``q``) as CSV or XLSX.
        ---
        get:
          summary: Export the list as CSV or XLSX
          description: >-
            The rows the list returns for the same ``q`` (filters and order; no paging),
            as CSV (UTF-8 with BOM) or XLSX; ``mode=human`` gives labels, money as numbers
            and local dates, ``mode=machine`` column names, minor units and ISO 8601.
          parameters:
          - in: query
            name: format
            schema: {type: string, enum: [csv, xlsx], default: csv}
          - in: query
            name: mode
            schema: {type: string, enum: [human, machine], default: machine}
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          responses:
            200:
              description: The file
              content:
                text/csv: {schema: {type: string}}
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {schema: {type: string, format: binary}}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            422:
              $ref: '#/components/responses/422'
        """
        try:
            fmt, mode = check_choice(request.args.get("format"), request.args.get("mode") or "machine")
        except ExportError as exc:
            return self.response_400(message=str(exc))
        args = kwargs.get("rison", {})
        filters = self._handle_filters_args(args)
        try:
            order_column, order_direction = self._handle_order_args(args)
        except InvalidOrderByColumnFABException as exc:
            return self.response_400(message=str(exc))
        query = list_query(self.datamodel, filters, order_column, order_direction)
        names = list(self.export_columns or self.list_columns)
        export = ListExport(self.datamodel, names, self.label_columns, query, fmt, mode)
        log_feature_use(f"api_list_export:{self.resource_name}:{fmt}:{mode}")
        return export.response(self.resource_name, self.resource_name)


KEEP_EXPORT_FILES_SECONDS = 24 * 3600


def write_export_file(endpoint: str, args: list[tuple[str, str]], user_id: int, fmt: str, mode: str, locale: str, token: str) -> str:
    """The job's work: replay the list request as the user who asked (their dealer, the
    same base filters), write the file under a temporary name and rename it when complete.
    Older files of the same user (a day) are removed on the way."""
    import os
    import time

    from flask import g
    from flask_babel import force_locale

    from app.extensions import appbuilder, db
    from app.models.users import DealerUser

    if not TOKEN.match(token):
        raise ValueError("bad export token")
    view = next(view for view in appbuilder.baseviews if getattr(view, "endpoint", None) == endpoint)
    folder = export_dir(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if time.time() - old.stat().st_mtime > KEEP_EXPORT_FILES_SECONDS:
            old.unlink(missing_ok=True)
    target = folder / f"{token}.{fmt}"
    partial = folder / f"{token}.{fmt}.part"
    with current_app.test_request_context(f"/{endpoint}/export", query_string=args), force_locale(locale):
        g.user = db.session.get(DealerUser, user_id)
        if g.user is None or not g.user.is_active:
            raise ValueError("the user who asked for the export is gone")
        export = view.build_export(fmt, mode)
        with partial.open("wb") as handle:
            export.write(handle, str(view.list_title or endpoint))
        os.replace(partial, target)
    return str(target)
