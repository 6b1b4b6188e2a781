"""The access and portability package (GDPR Art. 15 and 20): a ZIP with the person's data.

One JSON and one CSV file per data category that holds rows of the subject, a
``manifest.json`` (row counts and SHA-256 of every file) and a ``summary.html`` in the
person's language with everything Art. 15(1) lists, all generated from the privacy
registry. Rows are read in keyset batches and written straight into the ZIP, so memory
stays flat however much there is. The ZIP is written to a temporary file under
``<DATA_DIR>/exports/`` and renamed when complete: a failed job leaves no partial file and
the request stays in progress for the retry.

The same writer makes a dealer's account package (``account_export``, the "data export
tool"): one JSON and one CSV file per table that has a ``dealer_id`` column, plus the
dealer row and its users, all columns but passwords, rows restricted at a person's request
(GDPR Art. 18) left out and counted.

``export_path`` on the request is relative to ``DATA_DIR``, so the file store can be
mounted elsewhere on another machine.
"""

from __future__ import annotations

import csv
import enum
import glob
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, format_date, format_datetime, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, joinedload

from app.domain import DomainError
from app.extensions import db
from app.i18n.languages import dealer_timezone, force_timezone
from app.mail import notices
from app.models import Dealer, DealerStatus, PrivacyRequest, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.registry import Entry, entries, entry_for, mapped_models
from app.privacy.requests import intake, progress
from app.privacy.requests.links import DOWNLOAD, make_token, public_url
from app.privacy.requests.subjects import Subject, client_ids, request_ids, rows_of

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
EXPORT_DIR = "exports"
DOWNLOAD_PATH = "/privacy/download/{token}"
PHASE = "exporting"
# Spreadsheets run cells starting with these as formulas (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PART_SUFFIX = ".zip.part"
EXPORT_TYPES = (RequestType.access, RequestType.portability, RequestType.account_export)
# Never written into any package, whatever table they are in.
SECRET_COLUMNS = re.compile(r"password|secret|token|api_key", re.IGNORECASE)
# The account package starts with these tables; the rest follow by name.
ACCOUNT_FIRST = ("dealer", "ab_user")
# Titles of account tables that hold no personal data (and so have no declaration).
TABLE_TITLES = {
    "car": _l("Cars"),
    "car_cost": _l("Car costs"),
    "car_photo": _l("Car photos (descriptions and file names)"),
    "car_price_change": _l("Price history"),
    "car_status_change": _l("Status history"),
    "dealer_social_link": _l("Social links"),
    "retention_event": _l("Account and retention events"),
    "breach_dealer_notice": _l("Breach notices to the dealership"),
}
STALE_SECONDS = 24 * 3600


class ExportUnavailable(DomainError):
    """There is no export to hand out: never made, expired, or deleted."""

    def __init__(self, expired: bool = False) -> None:
        message = (
            _l("This copy of the data has expired and was deleted. Ask for a new copy.")
            if expired
            else _l("There is no copy of the data to download for this request.")
        )
        super().__init__(message)
        self.expired = expired


@dataclass
class _Part:
    """One category (subject export) or table (account export) of the package."""

    name: str
    model: type
    query: Any
    columns: tuple[str, ...]
    total: int
    entry: Entry | None = None
    left_out: int = 0  # rows restricted at a person's request, not exported


@dataclass
class PackedFile:
    """One file of the package, as listed in the manifest."""

    name: str
    sha256: str
    size: int
    rows: int | None = None

    def as_manifest(self) -> dict:
        return {"name": self.name, "rows": self.rows, "sha256": self.sha256, "size": self.size}


class _HashingWriter:
    """Writes bytes to a stream and keeps their SHA-256 and length."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.size += len(data)
        self.stream.write(data)


# -- paths -----------------------------------------------------------------------------


def data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def export_dir() -> Path:
    path = data_dir() / EXPORT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_file(request: PrivacyRequest) -> Path | None:
    """The absolute path of the request's current package (None: there is none)."""
    return data_dir() / request.export_path if request.export_path else None


def download_url(request: PrivacyRequest) -> str:
    """The public signed link, bound to this request and to this very file."""
    token = make_token(DOWNLOAD, request.id, bound_to=request.export_sha256 or "")
    return public_url(DOWNLOAD_PATH.format(token=token))


def _remove(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


# -- the job ---------------------------------------------------------------------------


def run_export(request_id: int) -> str:
    """Build the package of an access, portability or account export request in
    progress, then complete it."""
    session = db.session
    request = session.get(PrivacyRequest, request_id)
    if request is None or request.status is not RequestStatus.in_progress:
        return "nothing to do"
    if request.request_type not in EXPORT_TYPES:
        return "not an export"
    directory = export_dir()
    _remove_leftovers(directory, request)
    fd, tmp_name = tempfile.mkstemp(prefix=f".request-{request_id}-", suffix=PART_SUFFIX, dir=directory)
    tmp = Path(tmp_name)
    final: Path | None = None
    try:
        with os.fdopen(fd, "wb") as raw:
            files, counts = _write_package(session, request, raw, directory)
        sha256, size = _file_digest(tmp)
        final = directory / f"{request.reference}-{int(time.time())}-{sha256[:12]}.zip"
        os.replace(tmp, final)
        previous = export_file(request)
        _store(session, request, final, sha256, size, files, counts)
        session.commit()
    except BaseException:
        session.rollback()
        _remove(tmp)
        _remove(final)  # renamed but never committed: no request points at it
        log.exception("export of privacy request %s failed; it stays in progress", request_id)
        raise
    if previous is not None and previous != final:
        _remove(previous)
    log.info("export of privacy request %s: %d file(s), %d bytes", request_id, len(files), size)
    return f"exported {sum(counts.values())} row(s) in {len(counts)} categories"


def _write_package(session: Session, request: PrivacyRequest, raw, directory: Path) -> tuple[list[PackedFile], dict[str, int]]:
    """Write every file into the ZIP; returns the manifest entries and rows per category."""
    batch_size = max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))
    is_account = request.request_type is RequestType.account_export
    plan = _account_parts(session, request) if is_account else _subject_parts(session, request)
    tracker = _Progress(session, request, sum(part.total for part in plan))
    files: list[PackedFile] = []
    counts: dict[str, int] = {}
    generated_at = utcnow()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in plan:
            json_file, csv_file = _write_category(session, archive, part, batch_size, tracker, directory)
            files += [json_file, csv_file]
            counts[part.name] = json_file.rows or 0
        summary = _render_summary(request, plan, counts, generated_at, export_expiry(request, generated_at))
        files.append(_write_bytes(archive, "summary.html", summary.encode("utf-8")))
        manifest = {
            "format_version": FORMAT_VERSION,
            "request": {"id": request.id, "reference": request.reference, "type": request.request_type.value},
            "generated_at": _iso(generated_at),
            "files": [f.as_manifest() for f in files],
        }
        if is_account:
            manifest["dealer_id"] = request.dealer_id
            manifest["restricted_rows_left_out"] = {part.name: part.left_out for part in plan if part.left_out}
        _write_bytes(archive, "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    return files, counts


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _subject_parts(session: Session, request: PrivacyRequest) -> list[_Part]:
    """Access/portability: per registered category, the subject's rows and export columns."""
    subject = Subject.of(request)
    clients, own_requests = client_ids(session, subject), request_ids(session, subject)
    plan = []
    for entry in entries():
        query = rows_of(entry, subject, session, clients=clients, requests=own_requests)
        total = _count(session, query)
        if total:
            plan.append(_Part(entry.category, entry.model, query, entry.declaration.export_columns, total, entry))
    return plan


def account_tables() -> list[type]:
    """The models of a dealer's account: the dealer, then every mapped table with a
    ``dealer_id`` column (one model per table: the most derived, e.g. ``DealerUser``)."""
    by_table: dict[str, type] = {}
    for model in mapped_models():
        table = model.__table__
        if table.name != "dealer" and "dealer_id" not in table.c:
            continue
        known = by_table.get(table.name)
        if known is None or issubclass(model, known):
            by_table[table.name] = model
    first = [by_table[name] for name in ACCOUNT_FIRST if name in by_table]
    return first + [model for name, model in sorted(by_table.items()) if name not in ACCOUNT_FIRST]


def _account_parts(session: Session, request: PrivacyRequest) -> list[_Part]:
    """The dealer's account: all columns but secrets; restricted rows left out, counted."""
    dealer_id = request.dealer_id
    if dealer_id is None:
        raise DomainError(_l("An account export belongs to one dealer."))
    plan = []
    for model in account_tables():
        scope = model.id == dealer_id if model is Dealer else model.dealer_id == dealer_id
        query = select(model).where(scope)
        left_out = 0
        if "restricted_at" in model.__table__.c:
            left_out = _count(session, select(model).where(scope, model.restricted_at.is_not(None)))
            query = query.where(model.restricted_at.is_(None))
        query = query.order_by(*model.__table__.primary_key.columns)
        total = _count(session, query)
        if total or left_out:
            plan.append(_Part(model.__tablename__, model, query, _plain_columns(model), total, entry_for(model), left_out))
    return plan


def _plain_columns(model: type) -> tuple[str, ...]:
    return tuple(attr.key for attr in inspect(model).column_attrs if not SECRET_COLUMNS.search(attr.columns[0].name))


def export_expiry(request: PrivacyRequest, now: datetime) -> datetime:
    """When the package and its link expire: ``PRIVACY_EXPORT_TTL`` after it is made; the
    account package of a terminated dealer on the day its account data are deleted."""
    dealer = request.dealer
    if (
        request.request_type is RequestType.account_export
        and dealer is not None
        and dealer.status is DealerStatus.terminated
        and dealer.account_deletion_due_at is not None
    ):
        return dealer.account_deletion_due_at
    return now + current_app.config["PRIVACY_EXPORT_TTL"]


class _Progress:
    """Rows written so far: on the request (the truth, committed at most every
    ``COMMIT_EVERY`` seconds and at the end) and in the RQ job's meta for the UI."""

    COMMIT_EVERY = 1.0

    def __init__(self, session: Session, request: PrivacyRequest, total: int) -> None:
        self.session, self.request, self.total, self.done = session, request, total, 0
        self.pause = float(current_app.config.get("PRIVACY_BATCH_PAUSE") or 0)  # between batches
        self._saved_at = 0.0
        self._save()

    def add(self, rows: int) -> None:
        self.done += rows
        if self.done >= self.total or time.monotonic() - self._saved_at >= self.COMMIT_EVERY:
            self._save()

    def _save(self) -> None:
        progress.report(self.request, PHASE, self.done, self.total)
        self.session.commit()
        self._saved_at = time.monotonic()


def _write_category(session, archive, part: _Part, batch_size: int, tracker: _Progress, directory: Path) -> tuple[PackedFile, PackedFile]:
    """``<category>.json`` streamed into the ZIP, ``<category>.csv`` through a temp file."""
    columns = part.columns
    json_name, csv_name = f"{part.name}.json", f"{part.name}.csv"
    rows = 0
    with tempfile.TemporaryFile(dir=directory) as csv_tmp:
        csv_out = _HashingWriter(csv_tmp)
        csv_out.write("\ufeff".encode())  # lets spreadsheet programs see UTF-8
        csv_out.write(_csv_line([columns]))
        with archive.open(json_name, "w", force_zip64=True) as json_stream:
            json_out = _HashingWriter(json_stream)
            json_out.write(b"[")
            for batch in _batches(session, part, batch_size):
                records = [[_value(row, name) for name in columns] for row in batch]
                json_out.write(_json_chunk(columns, records, first=rows == 0))
                csv_out.write(_csv_line([[_csv_cell(v) for v in record] for record in records]))
                rows += len(records)
                tracker.add(len(records))
                if tracker.pause:
                    time.sleep(tracker.pause)
            json_out.write(b"\n]\n" if rows else b"]\n")
        csv_tmp.seek(0)
        with archive.open(csv_name, "w", force_zip64=True) as csv_stream:
            while chunk := csv_tmp.read(1 << 20):
                csv_stream.write(chunk)
    return (
        PackedFile(json_name, json_out.hash.hexdigest(), json_out.size, rows),
        PackedFile(csv_name, csv_out.hash.hexdigest(), csv_out.size, rows),
    )


def _batches(session: Session, part: _Part, batch_size: int):
    """Keyset batches of ORM rows (committing between batches is safe, unlike a cursor)."""
    (pk,) = part.model.__table__.primary_key.columns
    key = getattr(part.model, pk.key)
    options = _eager_options(part)
    last = None
    while True:
        page = part.query if last is None else part.query.where(key > last)
        batch = session.scalars(page.options(*options).limit(batch_size)).unique().all()
        if not batch:
            return
        yield batch
        last = getattr(batch[-1], pk.key)
        if len(batch) < batch_size:
            return


def _eager_options(part: _Part) -> list:
    """Load the relations that dotted export columns follow (``car.make``) with the rows."""
    options = []
    for relation in {name.split(".")[0] for name in part.columns if "." in name}:
        options.append(joinedload(getattr(part.model, relation)))
    return options


def _value(row: Any, name: str) -> Any:
    if "." not in name:
        return _plain(getattr(row, name))
    value = row
    for part in name.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return _plain(value)


def _plain(value: Any) -> Any:
    """JSON-ready: enums as their value, datetimes ISO 8601 in UTC, dates ISO."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_chunk(columns, records, first: bool) -> bytes:
    parts = [json.dumps(dict(zip(columns, record)), ensure_ascii=False) for record in records]
    return (("\n" if first else ",\n") + ",\n".join(parts)).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    """CSV text: booleans as true/false, empty for None, formula-looking text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_line(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write_bytes(archive: zipfile.ZipFile, name: str, data: bytes) -> PackedFile:
    archive.writestr(name, data)
    return PackedFile(name, hashlib.sha256(data).hexdigest(), len(data))


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _remove_leftovers(directory: Path, request: PrivacyRequest) -> None:
    """Files of an earlier run of this request killed before it could clean up: its temp
    files, and a package renamed but never committed (the request points at none of them)."""
    for leftover in directory.glob(f".request-{request.id}-*{PART_SUFFIX}"):
        _remove(leftover)
    current = export_file(request)
    mine = re.compile(re.escape(request.reference) + r"-\d+-[0-9a-f]{12}\.zip")
    for package in directory.glob(f"{glob.escape(request.reference)}-*.zip"):
        if package != current and mine.fullmatch(package.name):
            _remove(package)


def _store(session, request: PrivacyRequest, final: Path, sha256: str, size: int, files, counts) -> None:
    now = utcnow()
    request.export_path = final.relative_to(data_dir()).as_posix()
    request.export_sha256 = sha256
    request.export_size = size
    request.export_created_at = now
    request.export_expires_at = export_expiry(request, now)
    intake.complete(session, request, now=now, files=len(files), rows=sum(counts.values()), size=size)
    if request.request_type is RequestType.account_export:
        from app.privacy.lifecycle.account_export import notify_export_ready

        notify_export_ready(session, request, download_url(request))
    else:
        notices.queue_notice(session, "completed", request=request, download_url=download_url(request), expires_at=request.export_expires_at)


# -- the summary (GDPR Art. 15(1)) -----------------------------------------------------


def _text(value: Any) -> str:
    """A declaration text in the current locale (lazy strings; plain ones via the catalog)."""
    if value is None:
        return ""
    return gettext(value) if isinstance(value, str) and value else str(value)


def _render_summary(request: PrivacyRequest, plan: list[_Part], counts: dict[str, int], generated_at: datetime, expires_at: datetime) -> str:
    if request.request_type is RequestType.account_export:
        return _render_account_summary(request, plan, counts, generated_at, expires_at)
    config = current_app.config
    categories = [(part.entry, counts[part.name]) for part in plan]
    with force_locale(request.language or "en"), force_timezone(dealer_timezone(request.dealer)):
        items = [
            {
                "category": entry.category,
                "title": _text(d.title),
                "purpose": _text(d.purpose),
                "legal_basis": _text(d.legal_basis),
                "recipients": _text(d.recipients),
                "retention": _text(d.retention),
                "source": _text(d.source),
                "keep_reason": _text(d.keep_reason),
                "rows": rows,
                "files": [f"{entry.category}.json", f"{entry.category}.csv"],
            }
            for entry, rows in categories
            for d in (entry.declaration,)
        ]
        return render_template(
            "privacy/export_summary.html",
            request=request,
            language=request.language or "en",
            categories=items,
            total_rows=sum(item["rows"] for item in items),
            controller=request.dealer,
            supervisory_authority=config["SUPERVISORY_AUTHORITY"],
            officer_email=config["PRIVACY_OFFICER_EMAIL"],
            request_url=public_url("/privacy/request"),
            generated_at=format_datetime(generated_at, "long"),
            received_on=format_date(request.received_at, "long"),
            due_on=format_date(request.due_at, "long"),
            original_due_on=format_date(request.original_due_at, "long") if request.original_due_at else None,
            expires_on=format_date(expires_at, "long"),
            request_type=request.request_type.value,
        )


def _table_title(part: _Part) -> str:
    if part.entry is not None:
        return _text(part.entry.declaration.title)
    return str(TABLE_TITLES.get(part.name, part.name.replace("_", " ")))


def _render_account_summary(request: PrivacyRequest, plan: list[_Part], counts: dict[str, int], generated_at: datetime, expires_at: datetime) -> str:
    """What is in a dealer's account package, and what happens to the account next."""
    dealer = request.dealer
    terminated = dealer is not None and dealer.status is DealerStatus.terminated
    with force_locale(request.language or "en"), force_timezone(dealer_timezone(dealer)):
        tables = [
            {
                "table": part.name,
                "title": _table_title(part),
                "rows": counts[part.name],
                "left_out": part.left_out,
                "files": [f"{part.name}.json", f"{part.name}.csv"],
            }
            for part in plan
        ]
        return render_template(
            "privacy/account_export_summary.html",
            request=request,
            dealer=dealer,
            language=request.language or "en",
            tables=tables,
            total_rows=sum(item["rows"] for item in tables),
            left_out=sum(item["left_out"] for item in tables),
            officer_email=current_app.config["PRIVACY_OFFICER_EMAIL"],
            generated_at=format_datetime(generated_at, "long"),
            expires_on=format_date(expires_at, "long"),
            terminated=terminated,
            terminated_on=format_date(dealer.terminated_at, "long") if terminated and dealer.terminated_at else None,
            deletion_on=format_date(dealer.account_deletion_due_at, "long") if terminated and dealer.account_deletion_due_at else None,
            erasure_on=format_date(dealer.records_erasure_due_at, "long") if terminated and dealer.records_erasure_due_at else None,
        )


# -- handing the file out, and deleting it ---------------------------------------------


def open_export(session: Session, request: PrivacyRequest, actor_id: int | None = None, actor_label: str | None = None, now: datetime | None = None) -> Path:
    """The package's path, after logging the download; raises ``ExportUnavailable``.

    The caller commits (so the event is kept) and serves the file.
    """
    now = now or utcnow()
    path = export_file(request)
    if path is None:
        raise ExportUnavailable(expired=request.export_sha256 is not None)
    if request.export_expires_at is None or request.export_expires_at <= now or not path.is_file():
        raise ExportUnavailable(expired=True)
    intake.record_event(session, request, "downloaded", actor_id=actor_id, actor_label=actor_label, at=now)
    return path


def delete_expired_exports(now: datetime | None = None) -> int:
    """Delete packages whose link has expired; returns how many. Idempotent."""
    return sweep_expired_exports(db.session, now or utcnow())["expired"]


def sweep_expired_exports(session: Session, as_of: datetime, dry_run: bool = False) -> dict[str, int]:
    """The retention sweep of export files: packages whose link expired by ``as_of``
    (one commit each) and stale files no request points at. ``dry_run`` only counts.
    Returns ``{"expired": n, "orphaned": m}``."""
    query = select(PrivacyRequest.id).where(PrivacyRequest.export_path.is_not(None), PrivacyRequest.export_expires_at <= as_of)
    ids = session.scalars(query.order_by(PrivacyRequest.id)).all()
    if not dry_run:
        for request_id in ids:
            _delete_export(session, session.get(PrivacyRequest, request_id), "expired", as_of)
            session.commit()
    # A file's age is a fact of the real clock: a later as_of must not make a file that a
    # running job has just written look stale.
    orphans = _delete_orphans(session, min(as_of, utcnow()), dry_run=dry_run)
    if ids and not dry_run:
        log.info("deleted %d expired export(s)", len(ids))
    return {"expired": len(ids), "orphaned": orphans}


def delete_exports_of(session: Session, request_ids: list[int] | tuple[int, ...], reason: str = "erasure", actor_id: int | None = None) -> int:
    """Delete the packages of these requests (an erasure removes the person's old exports).

    The caller commits the cleared ``export_path`` and the events; the files go after
    that commit (a rollback keeps them).
    """
    if not request_ids:
        return 0
    query = select(PrivacyRequest).where(PrivacyRequest.id.in_(list(request_ids)), PrivacyRequest.export_path.is_not(None))
    found = session.scalars(query).all()
    for request in found:
        _delete_export(session, request, reason, utcnow(), actor_id=actor_id)
    return len(found)


def _delete_export(session: Session, request: PrivacyRequest, reason: str, now: datetime, actor_id: int | None = None) -> None:
    from app.privacy.files import remove_after_commit

    remove_after_commit(session, [export_file(request)])
    request.export_path = None
    intake.record_event(session, request, "export_deleted", actor_id=actor_id, at=now, reason=reason)


def _delete_orphans(session: Session, now: datetime, dry_run: bool = False) -> int:
    """Files no request points at, left by a job killed between rename and commit; how many."""
    directory = data_dir() / EXPORT_DIR
    if not directory.is_dir():
        return 0
    known = set(session.scalars(select(PrivacyRequest.export_path).where(PrivacyRequest.export_path.is_not(None))))
    session.rollback()
    cutoff = now.timestamp() - STALE_SECONDS
    count = 0
    for path in directory.iterdir():
        relative = path.relative_to(data_dir()).as_posix()
        if path.is_file() and relative not in known and path.stat().st_mtime < cutoff:
            count += 1 if dry_run else int(_remove(path))
    return count
