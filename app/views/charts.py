"""Bar charts drawn as SVG on the server (no script, nothing from a CDN): the chart's
numbers come with their labels, display texts and links, the template
``forecourt/_chart.html`` draws them with a title, a description and a data table
that carries the same figures (and the links) as text."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.dashboard import bar_geometry


@dataclass(frozen=True)
class ChartItem:
    label: str
    value: float
    text: str  # the value in the reader's locale
    href: str | None = None
    axis_label: str = ""  # a short label under a column (months)
    extra: list[str] = field(default_factory=list)  # further table cells


@dataclass(frozen=True)
class DrawnBar:
    item: ChartItem
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    headings: list[str]  # the table's column headings: label, value, extras
    horizontal: bool
    width: int
    height: int
    bars: list[DrawnBar]
    label_width: int = 0


ROW_HEIGHT = 28
LABEL_WIDTH = 150
VALUE_WIDTH = 60


def horizontal_chart(chart_id: str, title: str, description: str, headings: list[str], items: list[ChartItem], width: int = 480) -> Chart:
    """One row per item: the label on the left, a bar, the value at its end."""
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    geometry = bar_geometry([item.value for item in items], ROW_HEIGHT * len(items), plot, gap=0.3)
    # bar_geometry draws columns; turned on its side, its x is our y and its height our length.
    bars = [DrawnBar(item, LABEL_WIDTH, bar.x, bar.height, bar.width) for item, bar in zip(items, geometry, strict=True)]
    return Chart(chart_id, title, description, headings, True, width, ROW_HEIGHT * len(items), bars, LABEL_WIDTH)


def column_chart(
    chart_id: str, title: str, description: str, headings: list[str], items: list[ChartItem], width: int = 600, height: int = 200
) -> Chart:
    """Columns over time: short axis labels under them, the values on top."""
    top_margin, axis = 18, 22
    plot = height - top_margin - axis
    geometry = bar_geometry([item.value for item in items], width, plot)
    bars = [DrawnBar(item, bar.x, bar.y + top_margin, bar.width, bar.height) for item, bar in zip(items, geometry, strict=True)]
    return Chart(chart_id, title, description, headings, False, width, height, bars)
