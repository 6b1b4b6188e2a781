"""Imports with preview, the database side: upload (read, check, store the rows; write
nothing else), re-map the columns, confirm (queue the job after the commit), and apply
(the job: check again against the data as it is now, then write every row in one
transaction, or none). The rules themselves are in ``app.workbench.importing``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from rq import get_current_job
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.enum_labels import enum_label
from app.domain.numbers import format_example_amount
from app.models import Car, CarStatus, Client, ClientSource, Dealer, ImportBatch, ImportKind, ImportRow, ImportStatus
from app.models.inventory import BodyType, Condition, Fuel, MileageUnit, Transmission
from app.queueing import enqueue_import_after_commit
from app.workbench import importing
from app.workbench.importing import ERROR, UNCHANGED, UPDATE, Known, ReadContext
from app.workbench.labels import COLUMN_LABELS, EXAMPLES, EXTRA_ALIASES
from app.workbench.spreadsheets import MAX_FILE_BYTES, csv_bytes, read_table, xlsx_bytes

log = logging.getLogger(__name__)

LANGUAGES = ("en", "uk", "de")
ENUMS = {"body_type": BodyType, "fuel": Fuel, "transmission": Transmission, "mileage_unit": MileageUnit, "condition": Condition}
ENUMS_WITH_STATUS = {**ENUMS, "status": CarStatus}
_CHUNK = 500
PROGRESS_EVERY = 200
MAX_UPLOAD_BYTES = MAX_FILE_BYTES


# -- words of every language ------------------------------------------------------------


def header_aliases(kind: str) -> dict[str, str]:
    """``header_key`` of every wording of every column, in every language -> column."""
    found = {importing.header_key(k): v for k, v in EXTRA_ALIASES[kind].items()}
    for language in LANGUAGES:
        with force_locale(language):
            for name, label in COLUMN_LABELS[kind].items():
                found.setdefault(importing.header_key(str(label)), name)
    return found


def enum_labels() -> dict[str, dict[str, str]]:
    """column -> ``header_key`` of each choice's label in every language -> stored value."""
    found: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        with force_locale(language):
            for name, enum_class in ENUMS_WITH_STATUS.items():
                for member in enum_class:
                    found.setdefault(name, {}).setdefault(importing.header_key(enum_label(member)), member.value)
    return found


def template(kind: str, language: str, file_format: str) -> bytes:
    """An empty file with the headers in ``language`` and one example row."""
    with force_locale(language):
        headers = [str(label) for label in COLUMN_LABELS[kind].values()]
    example = []
    for name in COLUMN_LABELS[kind]:
        value = EXAMPLES[kind].get(name, "")
        example.append(format_example_amount(value, language) if name == "asking_price" else value)
    return xlsx_bytes(headers, [example]) if file_format == "xlsx" else csv_bytes(headers, [example])


# -- upload and preview -----------------------------------------------------------------


def upload(session: Session, dealer_id: int, user_id: int | None, kind: str, data: bytes, language: str) -> ImportBatch:
    """Read and check a file: a batch in ``preview`` with one row each; nothing else is
    written. ``DomainError`` for a file that cannot be read (nothing is stored)."""
    if kind not in importing.COLUMNS:
        raise DomainError(_l("Unknown import."), "kind")
    file_format, headers, rows = read_table(data)
    batch = ImportBatch(
        dealer_id=dealer_id,
        kind=ImportKind(kind),
        status=ImportStatus.preview,
        file_format=file_format,
        language=language if language in LANGUAGES else "en",
        headers=[str(h if h is not None else "") for h in headers],
        mapping=importing.guess_mapping(kind, headers, header_aliases(kind)),
        created_by_id=user_id,
    )
    session.add(batch)
    session.flush()
    _check(session, batch, [(number, cells) for number, cells in enumerate(rows, start=2)])
    return batch


def remap(session: Session, batch: ImportBatch, mapping: Mapping[str, str]) -> None:
    """Use the columns a person chose for the file's headers, and check every row again."""
    _refuse_unless_preview(batch)
    names = {c.name for c in importing.columns_of(batch.kind.value)}
    batch.mapping = {str(i): (mapping.get(str(i)) or "") if mapping.get(str(i)) in names else "" for i in range(len(batch.headers))}
    _check(session, batch, _stored_rows(session, batch))


def problems(batch: ImportBatch) -> list[str]:
    """The required columns no header is mapped to, and columns chosen twice."""
    return importing.mapping_problems(batch.kind.value, batch.mapping)


def confirm(session: Session, batch: ImportBatch) -> None:
    """Queue a clean preview for the job (enqueued when ``session`` commits)."""
    if batch.status is ImportStatus.queued:
        enqueue_import_after_commit(session, batch.id)  # again: harmless, same job id
        return
    _refuse_unless_preview(batch)
    if problems(batch) or batch.with_errors:
        raise DomainError(_l("Fix the rows with errors in your file and upload it again; nothing was imported."), "file")
    if not (batch.to_create or batch.to_update):
        raise DomainError(_l("This file changes nothing."), "file")
    batch.status = ImportStatus.queued
    batch.queued_at = datetime.now(UTC)
    enqueue_import_after_commit(session, batch.id)


def _refuse_unless_preview(batch: ImportBatch) -> None:
    if batch.status is not ImportStatus.preview:
        raise DomainError(_l("This import was already confirmed."), "file")


def _stored_rows(session: Session, batch: ImportBatch) -> list[tuple[int, list]]:
    query = select(ImportRow.row_number, ImportRow.cells).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number)
    return [(number, cells) for number, cells in session.execute(query)]


def _context(session: Session, batch: ImportBatch) -> ReadContext:
    dealer = session.get(Dealer, batch.dealer_id)
    currency = dealer.default_currency if dealer is not None else "EUR"
    return ReadContext(batch.language, currency, dealer.country if dealer is not None else None, enum_labels())


def _check(session: Session, batch: ImportBatch, rows: list[tuple[int, list]]) -> list[dict]:
    """Read and decide every row, store them (replacing earlier ones) and the counts."""
    kind = batch.kind.value
    context = _context(session, batch)
    readings = [(number, cells, importing.read_row(kind, cells, batch.mapping, context)) for number, cells in rows]
    known = known_records(session, batch.dealer_id, kind, [r for _, _, r in readings])
    seen: dict[tuple[str, Any], int] = {}
    stored = []
    for number, cells, reading in readings:
        decision = importing.decide(kind, reading, known, seen, number)
        changes = decision.changes if kind == "car" else {name: None for name in decision.changes}
        stored.append(
            {
                "batch_id": batch.id,
                "dealer_id": batch.dealer_id,
                "row_number": number,
                "cells": cells,
                "email": reading.values.get("email") if kind == "client" else None,
                "phone": reading.values.get("phone") if kind == "client" else None,
                "action": decision.action,
                "target_id": decision.target_id,
                "errors": [list(e) for e in decision.errors],
                "changes": _jsonable(changes),
            }
        )
    session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    for start in range(0, len(stored), _CHUNK):
        session.execute(ImportRow.__table__.insert(), stored[start : start + _CHUNK])  # executemany, no ORM per row
    actions = [row["action"] for row in stored]
    batch.to_create = actions.count(importing.CREATE)
    batch.to_update = actions.count(UPDATE)
    batch.unchanged = actions.count(UNCHANGED)
    batch.with_errors = actions.count(ERROR)
    batch.progress_total = batch.to_create + batch.to_update
    session.expire(batch, ["rows"])
    return stored


def _jsonable(changes: Mapping[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {name: [plain(v) for v in pair] if isinstance(pair, list) else pair for name, pair in changes.items()}


def known_records(session: Session, dealer_id: int, kind: str, readings: Iterable[importing.Reading]) -> Known:
    """The dealer's records the file's keys name (and, for cars, VINs in another stock)."""
    readings = list(readings)
    known = Known()
    model = Car if kind == "car" else Client
    names = [c.name for c in importing.columns_of(kind)]
    columns = [model.id, model.restricted_at] + [getattr(model, "asking_price_minor" if n == "asking_price" else n) for n in names]
    for key in importing.MATCH_KEYS[kind]:
        wanted = sorted({r.values[key] for r in readings if r.values.get(key)})
        column = getattr(model, key)
        for start in range(0, len(wanted), _CHUNK):
            query = select(*columns).where(model.dealer_id == dealer_id, column.in_(wanted[start : start + _CHUNK]))
            if kind == "client":
                query = query.where(Client.is_erasure_placeholder.is_(False))
            for row in session.execute(query):
                record = _snapshot(row, names)
                known.by_key.setdefault(key, {})[record[key]] = record
    if kind == "car":
        vins = sorted({r.values["vin"] for r in readings if r.values.get("vin")})
        for start in range(0, len(vins), _CHUNK):
            query = select(Car.vin).where(
                Car.dealer_id != dealer_id,
                Car.vin.in_(vins[start : start + _CHUNK]),
                Car.status.not_in([CarStatus.sold, CarStatus.archived]),
                Car.restricted_at.is_(None),
            )
            known.foreign_vins.update(session.scalars(query))
    return known


def _snapshot(row: Any, names: list[str]) -> dict[str, Any]:
    """A record as plain values: (id, restricted_at, *names) in, enums as their values."""
    found: dict[str, Any] = {"id": row[0], "restricted": row[1] is not None}
    for name, value in zip(names, row[2:]):
        found[name] = value.value if hasattr(value, "value") else value
    return found


# -- apply (the job) --------------------------------------------------------------------


def apply_batch(session: Session, batch_id: int) -> str:
    """Apply a queued batch in one transaction. The rows are checked again first (the
    data may have changed since the preview): any error and nothing is written, the batch
    is ``failed``. An applied or unknown batch is left alone (a re-run is harmless)."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status is not ImportStatus.queued:
        return "nothing to do"
    stored = _check(session, batch, _stored_rows(session, batch))
    if batch.with_errors:
        batch.status, batch.failure = ImportStatus.failed, "changed_since_preview"
        session.commit()
        return "failed: the data changed since the preview"
    session.info["acting_user_id"] = batch.created_by_id
    context = _context(session, batch)
    todo = [row for row in stored if row["action"] in (importing.CREATE, UPDATE)]
    try:
        for done, row in enumerate(todo, start=1):
            _write(session, batch, row, context)
            if done % PROGRESS_EVERY == 0 or done == len(todo):
                session.flush()
                _progress(done, len(todo))
        batch.status, batch.applied_at = ImportStatus.applied, datetime.now(UTC)
        batch.progress_done = len(todo)
        session.commit()
    except DomainError as error:
        session.rollback()
        log.info("import %s refused by a rule on field %s", batch_id, error.field)
        batch = session.get(ImportBatch, batch_id)
        batch.status, batch.failure = ImportStatus.failed, "refused_by_rule"
        session.commit()
        return "failed: refused by a rule"
    finally:
        session.info.pop("acting_user_id", None)
    return f"applied {len(todo)} rows"


def _progress(done: int, total: int) -> None:
    job = get_current_job()
    if job is not None:
        job.meta.update(phase="applying", done=done, total=total)
        job.save_meta()


def _write(session: Session, batch: ImportBatch, row: dict, context: ReadContext) -> None:
    from app.models.rules import validate_car

    kind = batch.kind.value
    values = importing.read_row(kind, row["cells"], batch.mapping, context).values
    if kind == "car":
        car = session.get(Car, row["target_id"]) if row["target_id"] else Car(dealer_id=batch.dealer_id, currency=context.currency)
        for name, value in values.items():
            if name == "asking_price":
                car.asking_price_minor = value
            elif name in ENUMS_WITH_STATUS:
                setattr(car, name, ENUMS_WITH_STATUS[name](value))
            else:
                setattr(car, name, value)
        with session.no_autoflush:  # the rule asks for clashes with other cars, not this one
            if car.id is None:
                car.dealer = session.get(Dealer, batch.dealer_id)
            validate_car(car, session)
        session.add(car)
    else:
        client = session.get(Client, row["target_id"]) if row["target_id"] else None
        if client is None:
            client = Client(dealer_id=batch.dealer_id, source=ClientSource.imported)
            client.dealer = session.get(Dealer, batch.dealer_id)
            session.add(client)
        for name in ("country", *values):  # the country first: it is the phone's region
            if name in values:
                setattr(client, name, values[name])
