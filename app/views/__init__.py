"""Register the CRUD views and the menu (thin: declarations only)."""

from __future__ import annotations

from flask import abort, current_app
from flask_appbuilder import AppBuilder, ModelView
from flask_babel import lazy_gettext as _l

from app.views.account import AccountView
from app.views.breaches import BreachView
from app.views.car_photos import CarPhotosView
from app.views.clients import ClientModelView
from app.views.consent import ConsentRecordView
from app.views.dealers import DealerModelView, DealerProfileView, DealerSocialLinkView
from app.views.disclosures import DisclosureModelView
from app.views.imports import ImportView
from app.views.inquiries import InquiryModelView
from app.views.inventory import (
    CarCostView,
    CarModelView,
    CarPhotoView,
    CarPriceChangeView,
    CarStatusChangeView,
)
from app.views.mail import MailOutboxView
from app.views.policy import PolicyVersionView
from app.views.privacy import PrivacyRequestView
from app.views.record_links import register_record_links
from app.views.record_of_processing import RecordOfProcessingView
from app.views.retention import RetentionEventView
from app.views.sales import KeptSaleView, SaleModelView
from app.views.saved_views import SavedViewsView
from app.views.subprocessors import SubProcessorView
from app.views.usage import UsageLogView

# Views every dealer-facing role works with (see app.roles for who gets what).
DEALER_DATA_VIEWS = (CarModelView, ClientModelView, InquiryModelView, SaleModelView)


def register_model_views(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(CarModelView, "Cars", label=_l("Cars"), icon="fa-car", category="Inventory", category_label=_l("Inventory"))
    appbuilder.add_view(CarCostView, "Costs", label=_l("Costs"), icon="fa-money", category="Inventory")
    appbuilder.add_view_no_menu(ImportView)
    appbuilder.add_link("Import cars", href="/import/car/", label=_l("Import cars"), icon="fa-upload", category="Inventory")
    appbuilder.add_view(
        ClientModelView, "Clients", label=_l("Clients"), icon="fa-address-book", category="Customers", category_label=_l("Customers")
    )
    appbuilder.add_link("Import clients", href="/import/client/", label=_l("Import clients"), icon="fa-upload", category="Customers")
    appbuilder.add_view(InquiryModelView, "Inquiries", label=_l("Inquiries"), icon="fa-envelope", category="Customers")
    appbuilder.add_view(SaleModelView, "Sales", label=_l("Sales"), icon="fa-handshake-o", category="Customers")
    appbuilder.add_view(DisclosureModelView, "Disclosures", label=_l("Disclosures"), icon="fa-share", category="Customers")
    appbuilder.add_view(ConsentRecordView, "Consent ledger", label=_l("Consent ledger"), icon="fa-check-square-o", category="Customers")
    # The same read-only view for the privacy officer, under Privacy (every dealer's records).
    appbuilder.add_link(
        "All consent records",
        href="ConsentRecordView.list",
        label=_l("Consent ledger"),
        icon="fa-check-square-o",
        category="Privacy",
        category_label=_l("Privacy"),
    )
    appbuilder.add_view(
        DealerProfileView,
        "Dealer profile",
        label=_l("Dealer profile"),
        icon="fa-building",
        category="Dealership",
        category_label=_l("Dealership"),
    )
    appbuilder.add_view(AccountView, "Account", label=_l("Account"), icon="fa-archive", category="Dealership")
    appbuilder.add_view(
        DealerModelView, "Dealers", label=_l("Dealers"), icon="fa-building", category="Accounts", category_label=_l("Accounts")
    )
    appbuilder.add_view(
        PrivacyRequestView,
        "Privacy requests",
        label=_l("Privacy requests"),
        icon="fa-user-secret",
        category="Privacy",
        category_label=_l("Privacy"),
    )
    appbuilder.add_view(
        RecordOfProcessingView, "Record of processing", label=_l("Record of processing"), icon="fa-book", category="Privacy"
    )
    appbuilder.add_view(MailOutboxView, "Mail outbox", label=_l("Mail outbox"), icon="fa-envelope-o", category="Privacy")
    appbuilder.add_view(PolicyVersionView, "Privacy policy", label=_l("Privacy policy"), icon="fa-file-text-o", category="Privacy")
    appbuilder.add_view(SubProcessorView, "Sub-processors", label=_l("Sub-processors"), icon="fa-cloud", category="Privacy")
    appbuilder.add_view(RetentionEventView, "Retention log", label=_l("Retention log"), icon="fa-history", category="Privacy")
    appbuilder.add_view(KeptSaleView, "Kept sales", label=_l("Sales kept for accounting"), icon="fa-archive", category="Privacy")
    appbuilder.add_view(BreachView, "Breach register", label=_l("Breach register"), icon="fa-exclamation-triangle", category="Privacy")
    appbuilder.add_view(UsageLogView, "Usage log", label=_l("Usage log"), icon="fa-line-chart", category="Accounts")
    appbuilder.add_view(SavedViewsView, "Saved views", label=_l("Saved views"), icon="fa-bookmark")
    for view in (DealerSocialLinkView, CarPriceChangeView, CarStatusChangeView, CarPhotoView, CarPhotosView):
        appbuilder.add_view_no_menu(view)
    register_record_links(current_app)  # the sales flow's links on record pages and the menu


def close_file_downloads(appbuilder: AppBuilder) -> None:
    """Every ``ModelView`` (FAB's own included) exposes ``/<view>/download/<filename>``
    for file columns, reading ``UPLOAD_FOLDER``; no model here has a file column, so
    these routes answer 404 (files have their own signed routes)."""
    app = current_app
    for view in appbuilder.baseviews:
        endpoint = f"{view.endpoint}.download"
        if isinstance(view, ModelView) and endpoint in app.view_functions:
            app.view_functions[endpoint] = _no_such_file


def _no_such_file(**_kwargs):
    abort(404)
