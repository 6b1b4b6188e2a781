"""Where export packages live: their files under ``<DATA_DIR>/exports/``, their expiry, the
signed download link, handing a package out, and deleting it.

``export_path`` on the request is relative to ``DATA_DIR``, so the file store can be
mounted elsewhere on another machine. A file goes only after the commit that forgets it
(``app.privacy.files.remove_after_commit``); files no request points at (a job killed
between rename and commit) are swept once they are a day old.
"""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain import DomainError
from app.extensions import db
from app.models import DealerStatus, PrivacyRequest, RequestType
from app.models.base import utcnow
from app.privacy.files import remove_after_commit
from app.privacy.links import DOWNLOAD, make_token, public_url
from app.privacy.requests import intake

log = logging.getLogger(__name__)

EXPORT_DIR = "exports"
DOWNLOAD_PATH = "/privacy/download/{token}"
# A package is written to a temporary file with this suffix and renamed when complete.
PART_SUFFIX = ".zip.part"
# Files no request points at are deleted once they are this old.
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
    token = make_token(DOWNLOAD, request.id, bound_to=request.export_sha256 or "")  # type: ignore[arg-type]  # untyped Column model
    return public_url(DOWNLOAD_PATH.format(token=token))


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


def remove_file(path: Path | None) -> bool:
    """Unlink ``path`` now; False when there was nothing to remove."""
    if path is None:
        return False
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def remove_leftovers(directory: Path, request: PrivacyRequest) -> None:
    """Files of an earlier run of this request killed before it could clean up: its temp
    files, and a package renamed but never committed (the request points at none of them)."""
    for leftover in directory.glob(f".request-{request.id}-*{PART_SUFFIX}"):
        remove_file(leftover)
    current = export_file(request)
    reference: str = request.reference  # type: ignore[assignment]  # untyped Column model
    mine = re.compile(re.escape(reference) + r"-\d+-[0-9a-f]{12}\.zip")
    for package in directory.glob(f"{glob.escape(reference)}-*.zip"):
        if package != current and mine.fullmatch(package.name):
            remove_file(package)


# -- handing the file out, and deleting it ---------------------------------------------


def open_export(
    session: Session, request: PrivacyRequest, actor_id: int | None = None, actor_label: str | None = None, now: datetime | None = None
) -> Path:
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
    query: Select[int] = select(PrivacyRequest.id).where(
        PrivacyRequest.export_path.is_not(None),
        PrivacyRequest.export_expires_at <= as_of,  # type: ignore[arg-type]  # untyped Column model
    )
    ids = session.scalars(query.order_by(PrivacyRequest.id)).all()
    if not dry_run:
        for request_id in ids:
            request = session.get(PrivacyRequest, request_id)
            if request is not None:
                _delete_export(session, request, "expired", as_of)
            session.commit()
    # A file's age is a fact of the real clock: a later as_of must not make a file that a
    # running job has just written look stale.
    orphans = _delete_orphans(session, min(as_of, utcnow()), dry_run=dry_run)
    if ids and not dry_run:
        log.info("deleted %d expired export(s)", len(ids))
    return {"expired": len(ids), "orphaned": orphans}


def delete_exports_of(session: Session, request_ids: Sequence[int], reason: str = "erasure", actor_id: int | None = None) -> int:
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
    remove_after_commit(session, [export_file(request)])
    request.export_path = None  # type: ignore[assignment]  # untyped Column model
    intake.record_event(session, request, "export_deleted", actor_id=actor_id, at=now, reason=reason)


def _delete_orphans(session: Session, now: datetime, dry_run: bool = False) -> int:
    """Files no request points at, left by a job killed between rename and commit; how many."""
    directory = data_dir() / EXPORT_DIR
    if not directory.is_dir():
        return 0
    known: set[str] = set(session.scalars(select(PrivacyRequest.export_path).where(PrivacyRequest.export_path.is_not(None))))
    session.rollback()
    cutoff = now.timestamp() - STALE_SECONDS
    count = 0
    for path in directory.iterdir():
        relative = path.relative_to(data_dir()).as_posix()
        if path.is_file() and relative not in known and path.stat().st_mtime < cutoff:
            count += 1 if dry_run else int(remove_file(path))
    return count
