"""The home page's figures: aggregates in SQL (one GROUP BY per figure, never a loop over
rows), scoped to a dealer and hiding restricted rows exactly like the lists they link to.

Each figure carries the list's filter as FAB's own URL arguments (``_flt_<n>_<column>``:
for an enum 0 = equal, 1 = not equal; for a date or time 1 = greater than, 2 = smaller
than; a repeated argument applies the filter once per value), so the web layer only turns
them into a link. No Flask request in here: the dealer, the clock and whether restricted
rows count are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Filters = dict[str, str | list[str]]


@dataclass(frozen=True)
class Figure:
    """A count (or amount) with the list view and filters that show the same rows."""

    key: str
    count: int
    view: str
    filters: Filters = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def url_time(value: datetime) -> str:
    """A time as a filter argument FAB parses to an aware UTC datetime (``…Z``)."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def whole_seconds(value: datetime) -> datetime:
    """The clock of a dashboard, to the second: the links carry no fractions."""
    return value.astimezone(UTC).replace(microsecond=0)
