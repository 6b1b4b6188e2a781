"""Reading an uploaded CSV or XLSX file into a header row and data rows, and writing the
import templates. Checked by content, not by name; bounded in size and rows.

Cells come out as text, except XLSX numbers (kept as numbers, so that ``1.234`` typed
as a number is not read as 1234 in de), booleans, and dates (ISO text).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

from app.domain import DomainError
from app.workbench.importing import Cell

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 60
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # an XLSX is a ZIP: no decompression bombs
_CSV_DELIMITERS = ",;\t"


def read_table(data: bytes) -> tuple[str, list[Cell], list[list[Cell]]]:
    """(format, headers, rows) of an uploaded file, or ``DomainError`` saying why not."""
    if not data:
        raise DomainError(_l("The file is empty."), "file")
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(_l("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // (1024 * 1024)), "file")
    if data[:4] == b"PK\x03\x04":
        file_format, table = "xlsx", _read_xlsx(data)
    elif b"\x00" in data[:4096]:
        raise DomainError(_l("This is neither a CSV nor an XLSX file."), "file")
    else:
        file_format, table = "csv", _read_csv(data)
    table = [row for row in table if any(c not in (None, "") for c in row)]
    if not table:
        raise DomainError(_l("The file is empty."), "file")
    headers, rows = table[0], table[1:]
    if len(rows) > MAX_ROWS:
        raise DomainError(_l("A file can have at most %(n)s rows.", n=MAX_ROWS), "file")
    if not rows:
        raise DomainError(_l("The file has a header row and no data."), "file")
    width = len(headers)
    if width > MAX_COLUMNS:
        raise DomainError(_l("A file can have at most %(n)s columns.", n=MAX_COLUMNS), "file")
    return file_format, headers, [list(row[:width]) + [None] * (width - len(row)) for row in rows]


def _read_csv(data: bytes) -> list[list[Cell]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # what Excel writes on a western Windows
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    try:
        return [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error:
        raise DomainError(_l("This CSV file cannot be read."), "file")


def _read_xlsx(data: bytes) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise DomainError(_l("The file is larger than %(mb)s MB.", mb=MAX_UNZIPPED_BYTES // (1024 * 1024)), "file")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a damaged or foreign ZIP raises anything openpyxl meets
        raise DomainError(_l("This is neither a CSV nor an XLSX file."), "file")
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_cell(value) for value in row[: MAX_COLUMNS + 1]])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- templates ----------------------------------------------------------------------------


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[object]] = ()) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8), semicolon-free comma CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[object]] = ()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
