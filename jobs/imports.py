"""RQ entry point for imports: an id in, ``app.workbench.imports`` does the work."""

from __future__ import annotations

from app.extensions import db
from app.workbench import imports


def apply_import(batch_id: int) -> str:
    """Apply a confirmed import batch, all or nothing (a second run finds it applied)."""
    return imports.apply_batch(db.session, batch_id)
