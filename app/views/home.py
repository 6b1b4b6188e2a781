"""The home page per role, answering "what needs me now?": a dealer's stock, aging,
sales and inquiries; the privacy officer's deadlines; internal staff's dealers,
terminations and users. Figures come from ``app.dashboards`` (SQL aggregates); every
figure links to the list it counts, with FAB's filter arguments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import g, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import format_date
from flask_babel import gettext as _

from app.dashboards import Figure
from app.dashboards.dealer import DealerHome, dealer_home
from app.dashboards.privacy import PrivacyHome, privacy_home
from app.dashboards.staff import ACCOUNT_DELETION, StaffHome, staff_home
from app.domain.enum_labels import enum_label
from app.domain.formatting import format_duration, format_money, format_number
from app.domain.grants import ADMIN, PRIVACY_OFFICER, STAFF
from app.models import CarStatus, DealerStatus, InquirySource, RequestType, utcnow
from app.restriction import can_see_restricted
from app.tenancy import current_dealer_id
from app.views.charts import ChartItem, column_chart, horizontal_chart


class HomeView(IndexView):
    index_template = "forecourt/index.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        context: dict = {}
        if user is not None and user.is_authenticated:
            roles = {role.name for role in user.roles}
            dealer_id = current_dealer_id()
            if dealer_id is not None:
                context["dealer"] = dealer_page(dealer_home(dealer_id, today(), include_restricted=can_see_restricted(user)))
            if PRIVACY_OFFICER in roles:
                context["privacy"] = privacy_page(privacy_home(utcnow()))
            if roles & {ADMIN, STAFF}:
                context["staff"] = staff_page(staff_home())
            context["signed_in"] = True
        return self.render_template(self.index_template, appbuilder=self.appbuilder, link=link, **context)


def today() -> date:
    """Today in the user's time zone (the lists' dates are the dealer's calendar days)."""
    from flask_babel import get_timezone

    return datetime.now(get_timezone()).date()


def link(figure: Figure) -> str | None:
    """The list the figure counts, filtered; None when the user may not open that list."""
    from app.extensions import appbuilder

    if not appbuilder.sm.has_access("can_list", figure.view):
        return None
    return url_for(f"{figure.view}.list", **figure.filters)


def aging_label(figure: Figure) -> str:
    low, high = figure.extra["low"], figure.extra["high"]
    if high is None:
        return _("over %(days)s days", days=format_number(low - 1))
    return _("%(low)s–%(high)s days", low=format_number(low), high=format_number(high))


def dealer_page(home: DealerHome) -> dict:
    """The dealer's figures with their labels, texts and links, and the charts of them."""
    stock = [ChartItem(enum_label(CarStatus(f.key)), f.count, format_number(f.count), link(f)) for f in home.stock]
    aging = [ChartItem(aging_label(f), f.count, format_number(f.count), link(f)) for f in home.aging]
    months = [
        ChartItem(
            format_date(m.month, "LLLL yyyy"),
            m.figure.count,
            format_number(m.figure.count),
            link(m.figure),
            axis_label=format_date(m.month, "LLL"),
            extra=[", ".join(format_money(total, currency) for currency, total in m.revenue.items()) or "—"],
        )
        for m in home.sales
    ]
    sources = [
        ChartItem(
            enum_label(InquirySource(s.figure.key)),
            s.figure.count,
            format_number(s.figure.count),
            link(s.figure),
            extra=[format_duration(timedelta(seconds=s.median_response_seconds)) if s.median_response_seconds is not None else "—"],
        )
        for s in home.sources
    ]
    return {
        "waiting": home.waiting,
        "waiting_href": link(home.waiting),
        "aging": aging,
        "stock_chart": horizontal_chart(
            "chart-stock",
            _("Stock by status"),
            _("Number of cars in each status."),
            [_("Status"), _("Cars")],
            stock,
        ),
        "aging_chart": horizontal_chart(
            "chart-aging",
            _("Days in stock"),
            _("Cars in stock (neither sold nor archived) by days since acquisition."),
            [_("Days in stock"), _("Cars")],
            aging,
        ),
        "sales_chart": column_chart(
            "chart-sales",
            _("Sales per month"),
            _("Cars sold in each of the last twelve months, with the revenue."),
            [_("Month"), _("Sales"), _("Revenue")],
            months,
        ),
        "sources_chart": horizontal_chart(
            "chart-sources",
            _("Inquiries by source"),
            _("All inquiries by where they came from, with the median time to the first answer."),
            [_("Source"), _("Inquiries"), _("Median first response")],
            sources,
        ),
    }


def termination_step(step: str) -> str:
    return _("account data deleted") if step == ACCOUNT_DELETION else _("business records erased")


def privacy_page(home: PrivacyHome) -> dict:
    by_type = [ChartItem(enum_label(RequestType(f.key)), f.count, format_number(f.count), link(f)) for f in home.by_type]
    return {
        "home": home,
        "types_chart": horizontal_chart(
            "chart-request-types",
            _("Open requests by type"),
            _("Privacy requests not yet completed, refused or cancelled, by type."),
            [_("Type"), _("Open requests")],
            by_type,
        ),
    }


def staff_page(home: StaffHome) -> dict:
    from app.extensions import appbuilder

    dealers = [ChartItem(enum_label(DealerStatus(f.key)), f.count, format_number(f.count), link(f)) for f in home.dealers]
    can_show = appbuilder.sm.has_access("can_show", "DealerModelView")
    terminations = [
        {
            "name": p.business_name,
            "href": url_for("DealerModelView.show", pk=p.dealer_id) if can_show else None,
            "step": termination_step(p.step),
            "due_at": p.due_at,
        }
        for p in home.pending_terminations
    ]
    return {
        "home": home,
        "dealers_chart": horizontal_chart(
            "chart-dealers", _("Dealers by status"), _("Dealer accounts by status."), [_("Status"), _("Dealers")], dealers
        ),
        "terminations": terminations,
        "terminated": next((f for f in home.dealers if f.key == DealerStatus.terminated.value), None),
        "users": [{"name": d.business_name, "figure": d.figure, "href": link(d.figure)} for d in home.users_per_dealer],
    }
