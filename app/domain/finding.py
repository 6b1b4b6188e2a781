"""Finding rows on a list: the quick-search query, the active filters a list shows as
chips, and the list state a saved view keeps. Plain values only (no request, no model).

A list's URL carries FAB's parameters (``_flt_<n>_<column>`` filters, ``_oc_<View>`` /
``_od_<View>`` sort, ``psize_<View>`` page size, ``page_<View>``) plus ours: ``q`` (the
quick search) and ``cols`` (the visible columns, comma-separated).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.domain import DomainError

MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_FILTERS = 20
MAX_FILTER_VALUE = 200
MAX_VIEW_NAME = 80
QUICK_SEARCH = "q"
COLUMNS = "cols"

# How a quick-search column is matched.
TEXT = "text"  # contains the term, any case
VIN = "vin"  # contains the term in capitals, without spaces or dashes
EMAIL = "email"  # contains the term, lower-case (addresses are stored lower-case)
PHONE = "phone"  # contains the term's digits, without a leading 0 / 00 (numbers are stored E.164)
NUMBER = "number"  # equals the term when it is a whole number (a model year)
KINDS = (TEXT, VIN, EMAIL, PHONE, NUMBER)

PHONE_LIKE = re.compile(r"^\+?[0-9()\-./ ]+$")
FILTER_KEY = re.compile(r"^_flt_(\d)_(.+)$")


@dataclass(frozen=True)
class Term:
    """One word of a quick search, in each form a column kind compares."""

    text: str
    vin: str | None = None
    digits: str | None = None
    number: int | None = None


@dataclass(frozen=True)
class QuickQuery:
    text: str = ""
    terms: tuple[Term, ...] = ()


def _phone_digits(raw: str) -> str | None:
    if not PHONE_LIKE.match(raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if not raw.startswith("+"):
        digits = digits[2:] if digits.startswith("00") else digits.removeprefix("0")
    return digits if len(digits) >= 3 else None


def make_term(raw: str) -> Term:
    compact = re.sub(r"[\s\-]", "", raw).upper()
    vin = compact if compact and re.fullmatch(r"[A-Z0-9]+", compact) else None
    number = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    return Term(text=raw.lower(), vin=vin, digits=_phone_digits(raw), number=number)


def parse_quick_query(raw: str | None) -> QuickQuery:
    """Every word must match one of the list's quick-search columns; a phone number
    typed with spaces ("0176 1234 5678") is one term."""
    text = " ".join((raw or "").split())
    if len(text) > MAX_QUERY_LENGTH:
        raise DomainError(_l("Search for at most %(num)d characters.", num=MAX_QUERY_LENGTH), QUICK_SEARCH)
    if not text:
        return QuickQuery()
    if PHONE_LIKE.match(text) and len(re.sub(r"\D", "", text)) >= 6:
        return QuickQuery(text, (make_term(text.replace(" ", "")),))
    words = text.split(" ")
    if len(words) > MAX_TERMS:
        raise DomainError(_l("Search for at most %(num)d words.", num=MAX_TERMS), QUICK_SEARCH)
    return QuickQuery(text, tuple(make_term(word) for word in words))


# ---------------------------------------------------------------- chips


@dataclass(frozen=True)
class Chip:
    """An active filter: what it says, and the query string of the list without it."""

    key: str
    column: str | None
    operation: str
    value: str
    remove_query: tuple[tuple[str, str], ...]


def _without(pairs: Sequence[tuple[str, str]], key: str, value: str, page_prefix: str) -> tuple[tuple[str, str], ...]:
    left, removed = [], False
    for k, v in pairs:
        if k.startswith(page_prefix):
            continue  # a narrower or wider list starts at its first page
        if not removed and k == key and v == value:
            removed = True
            continue
        left.append((k, v))
    return tuple(left)


def active_chips(pairs: Sequence[tuple[str, str]], operations: Mapping[str, Sequence[str]], view_name: str) -> list[Chip]:
    """The quick search and each FAB filter of the query string that the list applies.

    ``operations`` maps each searchable column to the names of its filter operations, in
    FAB's order (the ``<n>`` of ``_flt_<n>_<column>``)."""
    chips = []
    page_prefix = f"page_{view_name}"
    for key, value in pairs:
        if key == QUICK_SEARCH and value.strip():
            chips.append(Chip(key, None, "", value.strip(), _without(pairs, key, value, page_prefix)))
            continue
        match = FILTER_KEY.match(key)
        if not match:
            continue
        index, column = int(match.group(1)), match.group(2)
        names = operations.get(column)
        if names is None or index >= len(names):
            continue  # FAB ignores it too
        chips.append(Chip(key, column, names[index], value, _without(pairs, key, value, page_prefix)))
    return chips


# ---------------------------------------------------------------- list state (saved views)


@dataclass(frozen=True)
class ListSpec:
    """What a list accepts: its filter operations per column, sortable and listed columns."""

    view_name: str
    filter_counts: Mapping[str, int]
    order_columns: frozenset[str]
    list_columns: tuple[str, ...]


@dataclass(frozen=True)
class ListState:
    quick: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    order: tuple[str, str] | None = None
    page_size: int | None = None
    columns: tuple[str, ...] = field(default=())

    def query_pairs(self, view_name: str) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.quick:
            pairs.append((QUICK_SEARCH, self.quick))
        pairs.extend(self.filters)
        if self.order:
            pairs += [(f"_oc_{view_name}", self.order[0]), (f"_od_{view_name}", self.order[1])]
        if self.page_size:
            pairs.append((f"psize_{view_name}", str(self.page_size)))
        if self.columns:
            pairs.append((COLUMNS, ",".join(self.columns)))
        return pairs


def visible_columns(raw: str | None, list_columns: Sequence[str]) -> tuple[str, ...]:
    """The listed columns named in ``cols``, in the list's order; all of them when none is."""
    wanted = {name.strip() for name in (raw or "").split(",") if name.strip()}
    chosen = tuple(name for name in list_columns if name in wanted)
    return chosen or tuple(list_columns)


def _invalid(field_name: str) -> DomainError:
    return DomainError(_l("This view cannot be saved: it contains a filter or column this list does not have."), field_name)


def clean_list_state(pairs: Iterable[tuple[str, str]], spec: ListSpec) -> ListState:
    """The state of a list from its query string, refusing anything the list does not offer."""
    quick, filters, named = "", [], []
    order_column = order_direction = None
    page_size = None
    for key, value in pairs:
        if key == QUICK_SEARCH:
            quick = parse_quick_query(value).text
        elif key == COLUMNS:
            named += [n.strip() for n in value.split(",") if n.strip()]
            if any(n not in spec.list_columns for n in named):
                raise _invalid("query")
        elif key == f"_oc_{spec.view_name}":
            if value not in spec.order_columns:
                raise _invalid("query")
            order_column = value
        elif key == f"_od_{spec.view_name}":
            if value not in ("asc", "desc"):
                raise _invalid("query")
            order_direction = value
        elif key == f"psize_{spec.view_name}":
            if not value.isdigit() or not 1 <= int(value) <= 100:
                raise _invalid("query")
            page_size = int(value)
        elif key.startswith(f"page_{spec.view_name}"):
            continue  # a view opens at its first page
        else:
            match = FILTER_KEY.match(key)
            if not match or int(match.group(1)) >= spec.filter_counts.get(match.group(2), 0):
                raise _invalid("query")
            if len(value) > MAX_FILTER_VALUE:
                raise DomainError(_l("A filter value is too long."), "query")
            filters.append((key, value))
    if len(filters) > MAX_FILTERS:
        raise DomainError(_l("A view keeps at most %(num)d filters.", num=MAX_FILTERS), "query")
    order = (order_column, order_direction or "asc") if order_column else None
    columns = tuple(n for n in spec.list_columns if n in named)
    return ListState(quick, tuple(filters), order, page_size, () if len(columns) == len(spec.list_columns) else columns)


def clean_view_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError(_l("Give the view a name."), "name")
    if len(name) > MAX_VIEW_NAME:
        raise DomainError(_l("A view name has at most %(num)d characters.", num=MAX_VIEW_NAME), "name")
    return name
