"""The home page's rules on plain values: the stock aging buckets, the months of the sales
chart, the privacy officer's due-soon window, and the geometry of a bar chart.

The lists' filters and the dashboard's SQL use the same bounds from here, so a figure and
the list it links to count the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Days in stock: 0–30, 31–60, 61–90, over 90 (DOMAIN.md: aging from acquisition).
AGING_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 30), (31, 60), (61, 90), (91, None))
SALES_MONTHS = 12
DUE_SOON_DAYS = 5


@dataclass(frozen=True)
class AgingBucket:
    """Cars acquired after ``acquired_after`` and before ``acquired_before`` (both
    exclusive, either open), i.e. ``low``–``high`` days in stock on ``today``."""

    low: int
    high: int | None
    acquired_after: date | None
    acquired_before: date | None

    @property
    def key(self) -> str:
        return f"{self.low}-{self.high}" if self.high is not None else f"{self.low - 1}+"


def aging_buckets(today: date) -> list[AgingBucket]:
    """The buckets as acquisition-date bounds on ``today``; a car acquired in the future
    has 0 days in stock and falls into the first bucket."""
    buckets = []
    for low, high in AGING_BUCKETS:
        after = today - timedelta(days=high + 1) if high is not None else None
        before = today - timedelta(days=low - 1) if low > 0 else None
        buckets.append(AgingBucket(low, high, after, before))
    return buckets


def recent_months(today: date, count: int = SALES_MONTHS) -> list[date]:
    """The first days of the last ``count`` months, oldest first, this month last."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def month_after(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def due_soon_until(now: datetime) -> datetime:
    return now + timedelta(days=DUE_SOON_DAYS)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


def bar_geometry(values: list[int | float], width: float, height: float, gap: float = 0.25) -> list[Bar]:
    """Vertical bars for ``values`` in a ``width`` × ``height`` plot area (SVG coordinates:
    y grows downwards); the largest value fills the height, a zero has no height."""
    if not values:
        return []
    top = max(max(values), 0) or 1
    slot = width / len(values)
    bar_width = slot * (1 - gap)
    bars = []
    for index, value in enumerate(values):
        bar_height = height * max(value, 0) / top
        bars.append(
            Bar(round(index * slot + (slot - bar_width) / 2, 2), round(height - bar_height, 2), round(bar_width, 2), round(bar_height, 2))
        )
    return bars
