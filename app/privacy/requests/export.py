"""Building an export package (GDPR Art. 15 and 20): the job that writes the ZIP.

One JSON and one CSV file per part (``export_parts``: a category of the person's data, or
a table of a dealer's account), a ``summary.html`` (``export_summary``) and a
``manifest.json`` (row counts and SHA-256 of every file). Rows are read in keyset batches
and written straight into the ZIP, so memory stays flat however much there is. The ZIP is
written to a temporary file in the export store (``export_files``) and renamed when
complete: a failed job leaves no partial file and the request stays in progress for the
retry. The finished package completes the request and the person (or the dealer) is told.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from app.extensions import db
from app.mail import notices
from app.models import PrivacyRequest, RequestStatus, RequestType
from app.models.base import utcnow
from app.privacy.requests import intake, progress
from app.privacy.requests.export_files import (
    PART_SUFFIX,
    data_dir,
    download_url,
    export_dir,
    export_expiry,
    export_file,
    remove_file,
    remove_leftovers,
)
from app.privacy.requests.export_notices import notify_export_ready
from app.privacy.requests.export_parts import Part, account_parts, subject_parts
from app.privacy.requests.export_photos import account_photo_files
from app.privacy.requests.export_summary import render_summary

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
PHASE = "exporting"
# Spreadsheets run cells starting with these as formulas (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_TYPES = (RequestType.access, RequestType.portability, RequestType.account_export)


@dataclass
class PackedFile:
    """One file of the package, as listed in the manifest."""

    name: str
    sha256: str
    size: int
    rows: int | None = None

    def as_manifest(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "sha256": self.sha256, "size": self.size}


class _HashingWriter:
    """Writes bytes to a stream and keeps their SHA-256 and length."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.size += len(data)
        self.stream.write(data)


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
    remove_leftovers(directory, request)
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
        _complete(session, request, final, sha256, size, files, counts)
        session.commit()
    except BaseException:
        session.rollback()
        remove_file(tmp)
        remove_file(final)  # renamed but never committed: no request points at it
        log.exception("export of privacy request %s failed; it stays in progress", request_id)
        raise
    if previous is not None and previous != final:
        remove_file(previous)
    log.info("export of privacy request %s: %d file(s), %d bytes", request_id, len(files), size)
    return f"exported {sum(counts.values())} row(s) in {len(counts)} categories"


def _write_package(session: Session, request: PrivacyRequest, raw: IO[bytes], directory: Path) -> tuple[list[PackedFile], dict[str, int]]:
    """Write every file into the ZIP; returns the manifest entries and rows per category."""
    batch_size = max(1, int(current_app.config["PRIVACY_BATCH_SIZE"]))
    is_account = request.request_type is RequestType.account_export
    plan = account_parts(session, request) if is_account else subject_parts(session, request)
    tracker = ExportProgress(session, request, sum(part.total for part in plan))
    files: list[PackedFile] = []
    counts: dict[str, int] = {}
    generated_at = utcnow()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in plan:
            json_file, csv_file = _write_category(session, archive, part, batch_size, tracker, directory)
            files += [json_file, csv_file]
            counts[part.name] = json_file.rows or 0
        if is_account:  # the car photos themselves, next to the car_photo table
            files += [_write_path(archive, name, path) for name, path in account_photo_files(session, request.dealer_id)]  # type: ignore[arg-type]  # untyped Column model
        summary = render_summary(request, plan, counts, generated_at, export_expiry(request, generated_at))
        files.append(_write_bytes(archive, "summary.html", summary.encode("utf-8")))
        manifest: dict[str, Any] = {
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


class ExportProgress:
    """Rows written so far: on the request (the truth, committed at most every
    ``COMMIT_EVERY`` seconds and at the end) and in the RQ job's meta for the UI."""

    COMMIT_EVERY = 1.0

    def __init__(self, session: Session, request: PrivacyRequest, total: int) -> None:
        self.session, self.request, self.total, self.done = session, request, total, 0
        self.pause = float(current_app.config["PRIVACY_BATCH_PAUSE"])  # between batches
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


def _write_category(
    session: Session, archive: zipfile.ZipFile, part: Part, batch_size: int, tracker: ExportProgress, directory: Path
) -> tuple[PackedFile, PackedFile]:
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
                records = [[column_value(row, name) for name in columns] for row in batch]
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


def _batches(session: Session, part: Part, batch_size: int) -> Iterator[Sequence[Any]]:
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


def _eager_options(part: Part) -> list[LoaderOption]:
    """Load the relations that dotted export columns follow (``car.make``) with the rows."""
    options: list[LoaderOption] = []
    for relation in {name.split(".")[0] for name in part.columns if "." in name}:
        options.append(joinedload(getattr(part.model, relation)))
    return options


def column_value(row: Any, name: str) -> Any:
    """The JSON-ready value of an export column (``car.make`` follows a relation)."""
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


def _json_chunk(columns: Sequence[str], records: list[list[Any]], first: bool) -> bytes:
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


def _csv_line(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write_bytes(archive: zipfile.ZipFile, name: str, data: bytes) -> PackedFile:
    archive.writestr(name, data)
    return PackedFile(name, hashlib.sha256(data).hexdigest(), len(data))


def _write_path(archive: zipfile.ZipFile, name: str, path: Path) -> PackedFile:
    archive.write(path, name)
    return PackedFile(name, *_file_digest(path))


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _complete(
    session: Session, request: PrivacyRequest, final: Path, sha256: str, size: int, files: list[PackedFile], counts: dict[str, int]
) -> None:
    """Record the package on the request, complete it, and tell the person (or the dealer)."""
    now = utcnow()
    request.export_path = final.relative_to(data_dir()).as_posix()  # type: ignore[assignment]  # untyped Column model
    request.export_sha256 = sha256  # type: ignore[assignment]  # untyped Column model
    request.export_size = size  # type: ignore[assignment]  # untyped Column model
    request.export_created_at = now  # type: ignore[assignment]  # untyped Column model
    request.export_expires_at = export_expiry(request, now)  # type: ignore[assignment]  # untyped Column model
    intake.complete(session, request, now=now, files=len(files), rows=sum(counts.values()), size=size)
    if request.request_type is RequestType.account_export:
        notify_export_ready(session, request, download_url(request))
    else:
        notices.queue_notice(
            session, "completed", request=request, download_url=download_url(request), expires_at=request.export_expires_at
        )
