"""Files that go with database rows are removed only once the rows' deletion is committed.

``remove_after_commit`` remembers the paths on the session; the session's ``after_commit``
hook (``remove_files``, registered in ``app.model_events.register_model_events``) unlinks them,
and a rollback forgets them (``forget_files``), so a failed transaction keeps its files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

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
