"""List exports: the rows a list shows, as CSV (UTF-8 with BOM, for Excel) or XLSX.

Two modes: ``human`` (the list's translated labels, money as a number with its currency,
dates and times as people read them in the user's language and time zone, enum labels,
yes/no) and ``machine`` (column names, money in minor units, ISO 8601, raw enum values,
true/false). Each column's converter is chosen once (``compile_columns``); rows are read as
plain tuples in batches (never ORM objects), so 100,000 rows stream in bounded memory.

Every text cell that a spreadsheet would read as a formula (starting with ``= + - @``, or a
tab / carriage return before one) is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from flask_babel import format_date, format_datetime, get_locale, gettext, to_user_timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Boolean, Date, DateTime, Enum, Integer, Numeric, TypeDecorator, inspect, select
from sqlalchemy.orm import Session

from app.domain.enum_labels import enum_label
from app.domain.money import exponent, from_minor

FORMATS = ("csv", "xlsx")
MODES = ("human", "machine")
MIME_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000
BOM = "\ufeff"


class ExportError(ValueError):
    """A choice of format or mode that does not exist (a person's input: say so)."""


def check_choice(fmt: str | None, mode: str | None) -> tuple[str, str]:
    fmt, mode = (fmt or "csv").strip().lower(), (mode or "human").strip().lower()
    if fmt not in FORMATS:
        raise ExportError(gettext("Choose CSV or XLSX as the export format."))
    if mode not in MODES:
        raise ExportError(gettext("Choose human-readable or machine-readable values."))
    return fmt, mode


def neutralise(text: str) -> str:
    """A text a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its name (machine header), label (human header), the SQL
    expression read, its kind, and for money the currency expression beside it."""

    name: str
    label: str
    expression: Any
    kind: str
    currency: Any = None
    related: Any = None  # the related model for a relation (its label is its str())


def kind_of(column: Any, model: Any) -> str:
    column_type = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if column.name.endswith("_minor") and "currency" in model.__table__.columns:
        return "money"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Enum):
        return "enum"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Integer | Numeric):
        return "number"
    return "text"


def export_columns(model: Any, names: Iterable[str], labels: dict[str, Any]) -> list[ExportColumn]:
    """The columns of ``model`` named in ``names`` that the database can deliver: table
    columns, many-to-one relations (exported by their label, or id when machine-read), a
    ``<x>_display`` property by its ``<x>_minor`` money column (and the currency), a
    computed column by the columns its ``__sort_keys__`` names. Other Python properties are
    left out."""
    table = model.__table__
    sort_keys = getattr(model, "__sort_keys__", {}) or {}
    wanted: list[tuple[str, str]] = []
    for name in names:
        base = name.removesuffix("_display")
        if name not in table.columns and f"{base}_minor" in table.columns:
            wanted.append((f"{base}_minor", _label(labels, name)))
        elif name in sort_keys:
            wanted.extend((key, _label(labels, key)) for key in sort_keys[name])
        else:
            wanted.append((name, _label(labels, name)))
    chosen = [name for name, _ in wanted]
    if "currency" in table.columns and "currency" not in chosen and any(name.endswith("_minor") for name in chosen):
        wanted.append(("currency", _label(labels, "currency")))
    result, seen = [], set()
    for name, label in wanted:
        if name not in seen:
            seen.add(name)
            column = _column(model, name, label)
            if column is not None:
                result.append(column)
    return result


def _column(model: Any, name: str, label: str) -> ExportColumn | None:
    table, mapper = model.__table__, inspect(model)
    if name in table.columns:
        column = table.columns[name]
        kind = kind_of(column, model)
        currency = table.columns["currency"] if kind == "money" else None
        return ExportColumn(name, label, getattr(model, name), kind, currency)
    root, _, leaf = name.partition(".")
    if leaf == "id" and root in mapper.relationships:  # "car.id" (REST lists): the foreign key
        relation = mapper.relationships[root]
        if not relation.uselist and len(relation.local_columns) == 1:
            local = next(iter(relation.local_columns))
            return ExportColumn(name, label, getattr(model, local.key), "number")
    if name in mapper.relationships:
        relation = mapper.relationships[name]
        if relation.uselist or len(relation.local_columns) != 1:
            return None
        local = next(iter(relation.local_columns))
        return ExportColumn(name, label, getattr(model, local.key), "relation", related=relation.mapper.class_)
    return None


def _label(labels: dict[str, Any], name: str) -> str:
    base = name.removesuffix("_minor").removesuffix("_display")
    keys = (f"{base}_display", base, name) if name.endswith("_minor") else (name,)
    for key in keys:
        if labels.get(key):
            return str(labels[key])
    return name.replace("_", " ").capitalize()


# ---------------------------------------------------------------------------- converters

Converter = Callable[[tuple], Any]


@dataclass
class Compiled:
    """The headers and one converter per column, chosen once for a format and a mode."""

    headers: list[str]
    converters: list[Converter]
    number_formats: list[str | None]
    relations: list[RelationLabels] = field(default_factory=list)


class RelationLabels:
    """Labels (``str()``) of related rows, loaded per batch of ids (not per row)."""

    def __init__(self, session: Session, model: Any, index: int) -> None:
        self.session, self.model, self.index = session, model, index
        self.labels: dict[Any, str] = {}

    def prefetch(self, rows: list[tuple]) -> None:
        wanted = {row[self.index] for row in rows} - self.labels.keys() - {None}
        if len(self.labels) > 50_000:
            self.labels.clear()
        if wanted:
            for item in self.session.scalars(select(self.model).where(self.model.id.in_(wanted))):
                self.labels[item.id] = str(item)

    def __call__(self, row: tuple) -> str:
        value = row[self.index]
        return "" if value is None else neutralise(self.labels.get(value, ""))


def compile_columns(columns: list[ExportColumn], fmt: str, mode: str, session: Session) -> tuple[Compiled, list[Any]]:
    """Converters for ``columns`` and the SQL expressions to select (values, then each
    money column's currency)."""
    expressions = [column.expression for column in columns]
    headers, converters, formats, relations = [], [], [], []
    human, xlsx = mode == "human", fmt == "xlsx"
    for index, column in enumerate(columns):
        headers.append(column.label if human else column.name)
        number_format = None
        if column.kind == "money":
            expressions.append(column.currency)
            converter = _money(index, len(expressions) - 1, human, xlsx)
            number_format = "#,##0.00" if human and xlsx else None
        elif column.kind == "relation":
            if human:
                converter = RelationLabels(session, column.related, index)
                relations.append(converter)
            else:
                converter = _plain(index)
        elif column.kind == "datetime":
            converter = _datetime(index, human, xlsx)
            number_format = "yyyy-mm-dd hh:mm" if human and xlsx else None
        elif column.kind == "date":
            converter = _date(index, human, xlsx)
            number_format = "yyyy-mm-dd" if xlsx else None
        else:
            converter = {"bool": _boolean, "enum": _enum, "number": _number, "text": _text}[column.kind](index, human, xlsx)
        converters.append(converter)
        formats.append(number_format)
    return Compiled(headers, converters, formats, relations), expressions


def _plain(i: int) -> Converter:
    return lambda row: row[i]


def _text(i: int, human: bool, xlsx: bool) -> Converter:
    return lambda row: None if row[i] is None else neutralise(str(row[i]))


def _number(i: int, human: bool, xlsx: bool) -> Converter:
    if xlsx:
        return _plain(i)
    if human:
        decimal = _decimal_sign()
        return lambda row: "" if row[i] is None else str(row[i]).replace(".", decimal)
    return _plain(i)


def _boolean(i: int, human: bool, xlsx: bool) -> Converter:
    if human:
        yes, no = gettext("Yes"), gettext("No")
        return lambda row: None if row[i] is None else (yes if row[i] else no)
    if xlsx:
        return _plain(i)
    return lambda row: None if row[i] is None else ("true" if row[i] else "false")


def _enum(i: int, human: bool, xlsx: bool) -> Converter:
    if human:
        cache: dict[Any, str] = {}

        def label(row: tuple) -> str:
            value = row[i]
            if value not in cache:
                cache[value] = neutralise(enum_label(value)) if isinstance(value, enum.Enum) else str(value or "")
            return cache[value]

        return label
    return lambda row: row[i].value if isinstance(row[i], enum.Enum) else row[i]


def _date(i: int, human: bool, xlsx: bool) -> Converter:
    if xlsx:
        return _plain(i)
    if human:
        return lambda row: "" if row[i] is None else format_date(row[i], "medium")
    return lambda row: None if row[i] is None else row[i].isoformat()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _datetime(i: int, human: bool, xlsx: bool) -> Converter:
    if human and xlsx:  # Excel has no time zones: the user's local time, as a date cell
        return lambda row: None if row[i] is None else to_user_timezone(_utc(row[i])).replace(tzinfo=None)
    if human:
        return lambda row: "" if row[i] is None else format_datetime(_utc(row[i]), "medium")
    return lambda row: None if row[i] is None else _utc(row[i]).isoformat().replace("+00:00", "Z")


def _money(i: int, currency_at: int, human: bool, xlsx: bool) -> Converter:
    if not human:
        return _plain(i)  # minor units; the currency is its own column
    if xlsx:
        return lambda row: None if row[i] is None else from_minor(row[i], row[currency_at] or "EUR")
    decimal = _decimal_sign()

    def amount(row: tuple) -> str:
        if row[i] is None:
            return ""
        value: Decimal | None = from_minor(row[i], row[currency_at] or "EUR")
        places = exponent(row[currency_at] or "EUR")
        return f"{value:.{places}f}".replace(".", decimal)

    return amount


def _decimal_sign() -> str:
    locale = get_locale()
    return locale.number_symbols.get("latn", {}).get("decimal", ".") if locale is not None else "."


# ---------------------------------------------------------------------------- writing


def batches(rows: Iterable[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def converted(rows: Iterable[tuple], compiled: Compiled) -> Iterator[list[Any]]:
    """Each row as its cells, relation labels loaded once per batch."""
    converters = compiled.converters
    for chunk in batches(rows):
        for relation in compiled.relations:
            relation.prefetch(chunk)
        for row in chunk:
            yield [convert(row) for convert in converters]


def csv_chunks(rows: Iterable[tuple], compiled: Compiled) -> Iterator[str]:
    """The CSV text in pieces: a BOM (Excel then reads UTF-8), the header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(compiled.headers)
    yield BOM + _drain(buffer)
    for number, cells in enumerate(converted(rows, compiled), start=1):
        writer.writerow(["" if cell is None else cell for cell in cells])
        if number % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_xlsx(rows: Iterable[tuple], compiled: Compiled, target: IO[bytes], title: str) -> int:
    """A write-only workbook (rows go to disk as they come); returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append(compiled.headers)
    formats = compiled.number_formats
    count = 0
    for cells in converted(rows, compiled):
        line = []
        for value, number_format in zip(cells, formats, strict=True):
            if number_format is None or value is None:
                line.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = number_format
            line.append(cell)
        sheet.append(line)
        count += 1
    workbook.save(target)
    return count


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "Export")[:31]


def write_export(rows: Iterable[tuple], compiled: Compiled, fmt: str, target: IO[bytes], title: str) -> None:
    """The whole export into a binary file (used by the job and by XLSX answers)."""
    if fmt == "xlsx":
        write_xlsx(rows, compiled, target, title)
        return
    for chunk in csv_chunks(rows, compiled):
        target.write(chunk.encode("utf-8"))


def file_name(base: str, fmt: str, today: date | None = None) -> str:
    stamp = (today or date.today()).isoformat()
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base.lower()).strip("-") or "export"
    return f"{safe}-{stamp}.{fmt}"
