"""A dealer's home: stock by status and by days in stock, sales and revenue per month,
inquiries by source with the median first-response time, inquiries waiting for an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, extract, func, select

from app.dashboards import Figure
from app.domain.dashboard import aging_buckets, month_after, recent_months
from app.extensions import db
from app.models import Car, CarStatus, Inquiry, InquirySource, InquiryStatus, Sale, SaleStatus

OUT_OF_STOCK = (CarStatus.sold, CarStatus.archived)


@dataclass(frozen=True)
class MonthSales:
    month: date
    figure: Figure  # count of sales, linking to them
    revenue: dict[str, int]  # currency -> minor units


@dataclass(frozen=True)
class SourceFigure:
    figure: Figure
    median_response_seconds: float | None


@dataclass(frozen=True)
class DealerHome:
    stock: list[Figure]
    aging: list[Figure]
    sales: list[MonthSales]
    sources: list[SourceFigure]
    waiting: Figure


def _scoped(stmt, model, dealer_id: int, include_restricted: bool):
    stmt = stmt.where(model.dealer_id == dealer_id)
    return stmt if include_restricted else stmt.where(model.restricted_at.is_(None))


def stock_by_status(dealer_id: int, include_restricted: bool = False) -> list[Figure]:
    stmt = _scoped(select(Car.status, func.count()).group_by(Car.status), Car, dealer_id, include_restricted)
    counts = dict(db.session.execute(stmt).all())
    return [Figure(status.value, counts.get(status, 0), "CarModelView", {"_flt_0_status": status.name}) for status in CarStatus]


def stock_aging(dealer_id: int, today: date, include_restricted: bool = False) -> list[Figure]:
    """Cars in stock (neither sold nor archived) per aging bucket on ``today``."""
    buckets = aging_buckets(today)
    bucket_of = case(
        *[(Car.acquired_on > b.acquired_after, b.key) for b in buckets if b.acquired_after is not None],
        else_=buckets[-1].key,
    )
    # Grouped outside: PostgreSQL does not see a CASE with bound values in the select list
    # and the same CASE in GROUP BY as one expression.
    inner = _scoped(select(bucket_of.label("bucket")).where(Car.status.not_in(OUT_OF_STOCK)), Car, dealer_id, include_restricted).subquery()
    counts = dict(db.session.execute(select(inner.c.bucket, func.count()).group_by(inner.c.bucket)).all())
    figures = []
    for bucket in buckets:
        filters: dict[str, str | list[str]] = {"_flt_1_status": [s.name for s in OUT_OF_STOCK]}
        if bucket.acquired_after is not None:
            filters["_flt_1_acquired_on"] = bucket.acquired_after.isoformat()
        if bucket.acquired_before is not None:
            filters["_flt_2_acquired_on"] = bucket.acquired_before.isoformat()
        figures.append(Figure(bucket.key, counts.get(bucket.key, 0), "CarModelView", filters, {"low": bucket.low, "high": bucket.high}))
    return figures


def sales_by_month(dealer_id: int, today: date, include_restricted: bool = False) -> list[MonthSales]:
    """Sold deals per month of the sale date, the last twelve months; revenue per currency."""
    months = recent_months(today)
    year, month = extract("year", Sale.sale_date), extract("month", Sale.sale_date)
    stmt = (
        select(year, month, Sale.currency, func.count(), func.sum(Sale.price_minor))
        .where(Sale.status == SaleStatus.sold, Sale.sale_date >= months[0], Sale.sale_date < month_after(months[-1]))
        .group_by(year, month, Sale.currency)
    )
    counts: dict[tuple[int, int], int] = {}
    revenue: dict[tuple[int, int], dict[str, int]] = {}
    for y, m, currency, count, total in db.session.execute(_scoped(stmt, Sale, dealer_id, include_restricted)):
        key = (int(y), int(m))
        counts[key] = counts.get(key, 0) + count
        revenue.setdefault(key, {})[currency] = int(total or 0)
    result = []
    for first in months:
        key = (first.year, first.month)
        filters = {
            "_flt_0_status": SaleStatus.sold.name,
            "_flt_1_sale_date": date.fromordinal(first.toordinal() - 1).isoformat(),
            "_flt_2_sale_date": month_after(first).isoformat(),
        }
        figure = Figure(first.strftime("%Y-%m"), counts.get(key, 0), "SaleModelView", filters)
        result.append(MonthSales(first, figure, dict(sorted(revenue.get(key, {}).items()))))
    return result


def _response_seconds():
    """Seconds from receipt to first response, in the database's own arithmetic."""
    if db.session.get_bind().dialect.name == "postgresql":
        return extract("epoch", Inquiry.first_response_at - Inquiry.received_at)
    return (func.julianday(Inquiry.first_response_at) - func.julianday(Inquiry.received_at)) * 86400.0


def inquiries_by_source(dealer_id: int, include_restricted: bool = False) -> list[SourceFigure]:
    """Inquiries per source, and the median time to the first response of those answered
    (the middle one, or the mean of the middle two, by window functions in SQL)."""
    counts_stmt = select(Inquiry.source, func.count()).group_by(Inquiry.source)
    counts = dict(db.session.execute(_scoped(counts_stmt, Inquiry, dealer_id, include_restricted)).all())

    seconds = _response_seconds()
    ranked = _scoped(
        select(
            Inquiry.source.label("source"),
            seconds.label("seconds"),
            func.row_number().over(partition_by=Inquiry.source, order_by=seconds).label("position"),
            func.count().over(partition_by=Inquiry.source).label("answered"),
        ).where(Inquiry.first_response_at.is_not(None)),
        Inquiry,
        dealer_id,
        include_restricted,
    ).subquery()
    middle = select(ranked.c.source, func.avg(ranked.c.seconds)).where(
        ranked.c.position >= (ranked.c.answered + 1) // 2, ranked.c.position <= (ranked.c.answered + 2) // 2
    )
    medians = dict(db.session.execute(middle.group_by(ranked.c.source)).all())
    return [
        SourceFigure(
            Figure(source.value, counts.get(source, 0), "InquiryModelView", {"_flt_0_source": source.name}),
            float(medians[source]) if medians.get(source) is not None else None,
        )
        for source in InquirySource
    ]


def waiting_inquiries(dealer_id: int, include_restricted: bool = False) -> Figure:
    """New inquiries nobody has answered yet, and since when the oldest waits."""
    stmt = select(func.count(), func.min(Inquiry.received_at)).where(Inquiry.status == InquiryStatus.new)
    count, oldest = db.session.execute(_scoped(stmt, Inquiry, dealer_id, include_restricted)).one()
    return Figure("waiting", count or 0, "InquiryModelView", {"_flt_0_status": InquiryStatus.new.name}, {"oldest": oldest})


def dealer_home(dealer_id: int, today: date, include_restricted: bool = False) -> DealerHome:
    return DealerHome(
        stock=stock_by_status(dealer_id, include_restricted),
        aging=stock_aging(dealer_id, today, include_restricted),
        sales=sales_by_month(dealer_id, today, include_restricted),
        sources=inquiries_by_source(dealer_id, include_restricted),
        waiting=waiting_inquiries(dealer_id, include_restricted),
    )
