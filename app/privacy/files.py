"""Files that go with database rows are removed only once the rows' deletion is committed.

``remove_after_commit`` remembers the paths on the session; the session's ``after_commit``
hook (``remove_files``, registered in ``app.model_events.register_model_events``) unlinks them,
and a rollback forgets them (``forget_files``), so a failed transaction keeps its files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

FILES_KEY = "files_to_remove"


def remove_after_commit(session: Session, paths: Iterable[Path | str | None]) -> None:
    session.info.setdefault(FILES_KEY, []).extend(Path(p) for p in paths if p)


def remove_files(session: Session) -> None:
    """Session ``after_commit`` hook."""
    for path in session.info.pop(FILES_KEY, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:  # the row is gone already; a stray file is swept as an orphan
            log.exception("could not remove %s", path)


def forget_files(session: Session, *args) -> None:
    """Session ``after_soft_rollback`` hook."""
    session.info.pop(FILES_KEY, None)


# -- files written for rows that are not committed yet ------------------------------------

WRITTEN_KEY = "files_written"
# Tables whose rows name files in the store (paths relative to ``DATA_DIR``): whoever
# deletes their rows, by the ORM or by a SQL DELETE, removes the files after the commit.
FILE_COLUMNS: dict[str, tuple[str, ...]] = {"car_photo": ("file_path", "thumb_path")}


def store_path(relative: str) -> Path | None:
    """The absolute path of a stored file; None for a path that leaves the store."""
    from flask import current_app

    root = Path(current_app.config["DATA_DIR"]).resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


def remove_stored_after_commit(session: Session, relatives: Iterable[str | None]) -> None:
    """Store-relative paths of rows being deleted: removed once the deletion is committed."""
    remove_after_commit(session, [store_path(p) for p in relatives if p])


def remove_files_of_rows(session: Session, table: Table, where: ColumnElement[bool] | None) -> None:
    """Before a SQL DELETE on ``table`` (``where``: its rows): their files go after the commit."""
    columns = FILE_COLUMNS.get(table.name)
    if not columns:
        return
    query = select(*(table.c[name] for name in columns))
    if where is not None:
        query = query.where(where)
    remove_stored_after_commit(session, [path for row in session.execute(query) for path in row])


def written_before_commit(session: Session, paths: Iterable[Path]) -> None:
    """Files just written for rows not committed yet: removed again if the transaction rolls back."""
    session.info.setdefault(WRITTEN_KEY, []).extend(paths)


def keep_written(session: Session) -> None:
    """Session ``after_commit`` hook: the rows are there, their files stay."""
    session.info.pop(WRITTEN_KEY, None)


def remove_written(session: Session, *args) -> None:
    """Session ``after_soft_rollback`` hook: no row points at the files written, they go."""
    for path in session.info.pop(WRITTEN_KEY, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove %s", path)


# -- files no row names --------------------------------------------------------------------

PHOTO_DIR = "photos"
ORPHAN_AFTER_SECONDS = 24 * 3600  # an upload writes its files just before its commit


def remove_orphan_files(session: Session, now: float, dry_run: bool = False) -> int:
    """Stored photo files that no row names (left by a process killed between writing them
    and its commit), older than a day; how many were (or would be) removed."""
    from flask import current_app

    root = Path(current_app.config["DATA_DIR"])
    folder = root / PHOTO_DIR
    if not folder.is_dir():
        return 0
    known: set[str] = set()
    for table, columns in FILE_COLUMNS.items():
        target = db.metadata.tables[table]
        for row in session.execute(select(*(target.c[name] for name in columns))):
            known.update(path for path in row if path)
    count = 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.relative_to(root).as_posix() in known or path.stat().st_mtime >= now - ORPHAN_AFTER_SECONDS:
            continue
        count += 1
        if not dry_run:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.exception("could not remove %s", path)
    return count
