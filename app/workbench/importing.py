"""The rules of an import, on plain values (no database, no HTTP, no Redis): which
columns a car or client file has, how headers map to them, how each cell is read in the
file's language, how a row matches an existing record, and what the row will do.

The service (``app.workbench.imports``) hands in what the database knows as a
``Known`` snapshot and stores what comes out; tests call these functions directly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l

from app.domain import DomainError
from app.domain.contact import normalise_country, normalise_email, normalise_phone
from app.domain.money import normalise_currency
from app.domain.numbers import parse_amount, parse_day, parse_whole_number
from app.domain.vin import check_vin

Cell = str | int | float | bool | None
CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
# A cell a spreadsheet would run as a formula (=HYPERLINK(…), @SUM(…), +cmd|…, -2+3): refused,
# because what it shows is not what it holds. A phone number (+49 30 …) or a negative
# number (-5) is not one.
_FORMULA = re.compile(r"^\s*[=@+\-]")
_NUMBER_OR_PHONE = re.compile(r"^\s*[+\-][\d\s.,()/\-]*$")
_TRUE = {"1", "yes", "y", "true", "x", "ja", "j", "так", "wahr", "✓"}
_FALSE = {"0", "no", "n", "false", "nein", "ні", "falsch", ""}


@dataclass(frozen=True)
class Column:
    """A column an import understands: ``kind`` says how its cells are read."""

    name: str
    kind: str  # text | vin | int | amount | date | bool | enum | email | phone | country | currency
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()


CAR_COLUMNS = (
    Column("stock_number", "text", required=True, max_length=30),
    Column("vin", "vin", required=True),
    Column("legacy_chassis_number", "bool"),
    Column("make", "text", required=True, max_length=60),
    Column("model", "text", required=True, max_length=60),
    Column("trim", "text", max_length=80),
    Column("year", "int", required=True),
    Column("body_type", "enum", choices=("hatchback", "sedan", "estate", "suv", "coupe", "convertible", "van", "pickup", "other")),
    Column("fuel", "enum", choices=("petrol", "diesel", "hybrid", "plug_in_hybrid", "electric", "lpg", "other")),
    Column("transmission", "enum", choices=("manual", "automatic")),
    Column("exterior_colour", "text", max_length=40),
    Column("interior_colour", "text", max_length=40),
    Column("mileage", "int"),
    Column("mileage_unit", "enum", choices=("km", "mi")),
    Column("condition", "enum", choices=("new", "used")),
    # "sold" is set by recording a sale, never by a file.
    Column("status", "enum", choices=("acquired", "in_preparation", "available", "reserved", "archived")),
    Column("acquired_on", "date"),
    Column("currency", "currency"),
    Column("asking_price", "amount"),
)
# Marketing consent is not importable: consent is given by the person, with its proof.
CLIENT_COLUMNS = (
    Column("first_name", "text", required=True, max_length=100),
    Column("last_name", "text", required=True, max_length=100),
    Column("email", "email"),
    Column("phone", "phone"),
    Column("address_line1", "text", max_length=200),
    Column("address_line2", "text", max_length=200),
    Column("city", "text", max_length=100),
    Column("postal_code", "text", max_length=20),
    Column("country", "country"),
    Column("notes", "text", max_length=5000),
)
COLUMNS = {"car": CAR_COLUMNS, "client": CLIENT_COLUMNS}
MULTI_LINE = {"notes"}


def columns_of(kind: str) -> tuple[Column, ...]:
    return COLUMNS[kind]


@lru_cache(maxsize=4096)  # a file repeats its choices ("Diesel") thousands of times
def header_key(text: object) -> str:
    """A header as compared: lower case, accents and punctuation gone ("E-Mail" = "email")."""
    folded = unicodedata.normalize("NFKD", str(text or "")).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def guess_mapping(kind: str, headers: Sequence[object], aliases: Mapping[str, str]) -> dict[str, str]:
    """Header position (as text) -> column name, "" for a header nobody recognised.
    ``aliases`` maps ``header_key`` of each known wording (names, labels in every
    language) to a column; a column is taken by its first header only."""
    names = {c.name for c in columns_of(kind)}
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for index, header in enumerate(headers):
        key = header_key(header)
        name = key if key in names else aliases.get(key, "")
        if name and name not in taken:
            taken.add(name)
            mapping[str(index)] = name
        else:
            mapping[str(index)] = ""
    return mapping


def mapping_problems(kind: str, mapping: Mapping[str, str]) -> list[str]:
    """The columns a file must have and has not: one to match records by (any of
    ``MATCH_KEYS``), and, unless every row updates, the ones a new record needs (those
    are reported per row); plus columns mapped twice."""
    chosen = [name for name in mapping.values() if name]
    missing = [] if any(key in chosen for key in MATCH_KEYS[kind]) else [MATCH_KEYS[kind][0]]
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    return missing + twice


def is_formula(value: Cell) -> bool:
    return isinstance(value, str) and bool(_FORMULA.match(value)) and not _NUMBER_OR_PHONE.match(value)


@dataclass
class Reading:
    """What one row says, read in the file's language: ``values`` by column, ``errors``
    as (column, message)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReadContext:
    language: str
    currency: str  # when the file has no currency column
    country: str | None  # the region of phone numbers written without a country code
    enum_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> header_key(label) -> value


def read_row(kind: str, cells: Sequence[Cell], mapping: Mapping[str, str], context: ReadContext) -> Reading:
    """Read one row's mapped cells; every cell is checked for formulas, mapped or not."""
    reading = Reading()
    by_name = {c.name: c for c in columns_of(kind)}
    raw: dict[str, Cell] = {}
    for index, value in enumerate(cells):
        name = mapping.get(str(index), "")
        if is_formula(value):
            reading.errors.append((name or "_row", str(_l("'%(value)s' is a formula; formulas are not imported.", value=value))))
            continue
        if name:
            raw[name] = value
    currency = context.currency
    if _filled(raw.get("currency")):
        try:
            currency = reading.values["currency"] = normalise_currency(str(raw["currency"]))
        except DomainError as error:
            reading.errors.append(("currency", str(error.message)))
    country = raw.get("country")
    for name, column in by_name.items():
        value = raw.get(name)
        if name == "currency" or not _filled(value):
            continue  # an empty cell changes nothing; a new record's required ones: ``decide``
        try:
            reading.values[name] = _read(column, value, context, currency, country)
        except DomainError as error:
            reading.errors.append((name, str(error.message)))
    if kind == "car" and "vin" in reading.values:
        _check_vin(reading)
    return reading


def _filled(value: Cell) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _read(column: Column, value: Cell, context: ReadContext, currency: str, country: Cell) -> Any:
    name, kind = column.name, column.kind
    if kind == "amount":
        return parse_amount(value, currency, context.language, name)
    if kind == "int":
        return parse_whole_number(value, context.language, name)
    if kind == "date":
        return parse_day(value if not isinstance(value, (int, float)) else str(value), context.language, name)
    if kind == "bool":
        return _read_bool(value, name)
    text = str(value).strip()
    if column.max_length and len(text) > column.max_length:
        raise DomainError(_l("At most %(n)s characters.", n=column.max_length), name)
    if name not in MULTI_LINE and ("\n" in text or "\r" in text):
        raise DomainError(_l("This must fit on one line."), name)
    readers: dict[str, Callable[[], Any]] = {
        "vin": lambda: text,
        "email": lambda: normalise_email(text),
        "phone": lambda: normalise_phone(text, _region(country) or context.country),
        "country": lambda: normalise_country(text),
        "enum": lambda: _read_choice(column, text, context),
    }
    return readers.get(kind, lambda: text)()


def _region(country: Cell) -> str | None:
    text = str(country or "").strip().upper()
    return text if len(text) == 2 else None


def _read_bool(value: Cell, name: str) -> bool:
    if isinstance(value, bool):
        return value
    key = str(value).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise DomainError(_l("'%(value)s' is not yes or no.", value=value), name)


def _read_choice(column: Column, text: str, context: ReadContext) -> str:
    key = header_key(text)
    for choice in column.choices:
        if key == header_key(choice):
            return choice
    found = context.enum_labels.get(column.name, {}).get(key)
    if found in column.choices:
        return found
    raise DomainError(_l("'%(value)s' is not one of the choices.", value=text), column.name)


def _check_vin(reading: Reading) -> None:
    year = reading.values.get("year")
    result = check_vin(reading.values["vin"], year if isinstance(year, int) else None, bool(reading.values.get("legacy_chassis_number")))
    if result.errors:
        reading.errors.append(("vin", result.errors[0]))
    reading.values["vin"] = result.vin


# -- matching ---------------------------------------------------------------------------


@dataclass
class Known:
    """What the database knows, as plain values: the dealer's records by their keys
    (each a dict of column values with ``id`` and ``restricted``), and the VINs in
    another dealer's stock (a car is in one stock at a time; sold ones move)."""

    by_key: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # "vin"/"stock_number"/"email"/"phone" -> key -> record
    foreign_vins: set[str] = field(default_factory=set)


@dataclass
class Decision:
    action: str
    target_id: int | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


MATCH_KEYS = {"car": ("vin", "stock_number"), "client": ("email", "phone")}


def decide(kind: str, reading: Reading, known: Known, seen: dict[tuple[str, Any], int], row_number: int) -> Decision:
    """Create, update, unchanged or error for one read row. ``seen`` collects the keys of
    the file's earlier rows, so that a file cannot name one record twice."""
    errors = list(reading.errors)
    values = reading.values
    if kind == "client" and not (values.get("email") or values.get("phone")) and not any(n in ("email", "phone") for n, _ in errors):
        errors.append(("email", str(_l("A client needs an e-mail address or a phone number."))))
    keys = [(k, values[k]) for k in MATCH_KEYS[kind] if values.get(k)]
    for key in keys:
        if key in seen:
            errors.append((key[0], str(_l("Row %(row)s has the same value in this column.", row=seen[key]))))
        else:
            seen[key] = row_number
    if kind == "car" and values.get("vin") in known.foreign_vins and values["vin"] not in known.by_key.get("vin", {}):
        errors.append(("vin", str(_l("This VIN is in another dealer's stock on Forecourt; it cannot be imported into yours."))))
    matches = {k: known.by_key.get(k, {}).get(v) for k, v in keys}
    targets = {m["id"]: m for m in matches.values() if m is not None}
    if len(targets) > 1:
        message = (
            _l("The VIN and the stock number belong to different cars.")
            if kind == "car"
            else _l("The e-mail address and the phone number belong to different clients.")
        )
        errors.append((MATCH_KEYS[kind][1], str(message)))
    target = next(iter(targets.values()), None)
    if target is not None and target.get("restricted"):
        errors.append(("_row", str(_l("The matching record is restricted (GDPR Art. 18) and cannot be changed."))))
    if kind == "car" and target is not None and values.get("vin") and target.get("vin") != values["vin"]:
        errors.append(("stock_number", str(_l("This stock number belongs to a car with another VIN."))))
    if errors:
        return Decision(ERROR, target["id"] if target else None, errors=errors)
    if target is None:
        missing = [(c.name, str(_l("A new record needs this column."))) for c in columns_of(kind) if c.required and c.name not in values]
        return Decision(ERROR, errors=missing) if missing else Decision(CREATE)
    changes = {name: [target.get(name), value] for name, value in values.items() if target.get(name) != value and name in target}
    return Decision(UPDATE if changes else UNCHANGED, target["id"], changes)
