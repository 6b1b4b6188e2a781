"""Saving what a person submitted in one transaction: commit, or, when a rule of the
domain refuses it (``DomainError``), roll everything back and tell the person why.

Web glue for the staff views (the message is flashed and shown at its field) and the
public pages (no flash: the message is shown on the form itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from app.domain import DomainError
from app.extensions import db


@dataclass
class Saved:
    """How a save went: ``error`` is the refusal, None once committed."""

    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def saving(form=None, *, flash_error: bool = True) -> Iterator[Saved]:
    """Run the block and commit; on a ``DomainError`` roll back and show its message.

    The message goes to the form's field it names, if any; with ``flash_error`` it is
    also flashed, without it a message for no field is one of the form's own errors.
    Check ``saved.ok`` after the block (a refusal is not raised again)::

        with saving(form) as saved:
            item = service.do(db.session, ...)
        if saved.ok:
            ...
    """
    saved = Saved()
    try:
        yield saved
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        saved.error = exc
        show_error(form, exc, flash_error=flash_error)


@contextmanager
def refused_forms_rolled_back() -> Iterator[None]:
    """For FAB's ``pre_add``/``pre_update`` hooks: a refusal leaves nothing of the form in
    the session (FAB shows the raised error itself)."""
    try:
        yield
    except DomainError:
        db.session.rollback()
        raise


def show_error(form, exc: DomainError, *, flash_error: bool = True) -> None:
    """The refusal's message at the field it names (never the CSRF token), and flashed;
    unflashed, a message for no field is one of the form's own errors."""
    message = str(exc.message)
    if form is not None and exc.field and exc.field in form and exc.field != "csrf_token":
        form[exc.field].errors = [*(form[exc.field].errors or []), message]
    elif form is not None and not flash_error:
        form.form_errors.append(message)
    if flash_error:
        flash(message, "danger")
