"""Register the CRUD views and the menu (thin: declarations only)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

from app.views.clients import ClientModelView
from app.views.dealers import DealerModelView, DealerProfileView, DealerSocialLinkView
from app.views.disclosures import DisclosureModelView
from app.views.inquiries import InquiryModelView
from app.views.inventory import (
    CarCostView,
    CarModelView,
    CarPhotoView,
    CarPriceChangeView,
    CarStatusChangeView,
)
from app.views.mail import MailOutboxView
from app.views.privacy import PrivacyRequestView, RecordOfProcessingView
from app.views.sales import SaleModelView

# Views every dealer-facing role works with (see app.roles for who gets what).
DEALER_DATA_VIEWS = (CarModelView, ClientModelView, InquiryModelView, SaleModelView)


def register_model_views(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(CarModelView, "Cars", label=_l("Cars"), icon="fa-car", category="Inventory", category_label=_l("Inventory"))
    appbuilder.add_view(CarCostView, "Costs", label=_l("Costs"), icon="fa-money", category="Inventory")
    appbuilder.add_view(ClientModelView, "Clients", label=_l("Clients"), icon="fa-address-book", category="Customers", category_label=_l("Customers"))
    appbuilder.add_view(InquiryModelView, "Inquiries", label=_l("Inquiries"), icon="fa-envelope", category="Customers")
    appbuilder.add_view(SaleModelView, "Sales", label=_l("Sales"), icon="fa-handshake-o", category="Customers")
    appbuilder.add_view(DisclosureModelView, "Disclosures", label=_l("Disclosures"), icon="fa-share", category="Customers")
    appbuilder.add_view(DealerProfileView, "Dealer profile", label=_l("Dealer profile"), icon="fa-building", category="Dealership", category_label=_l("Dealership"))
    appbuilder.add_view(DealerModelView, "Dealers", label=_l("Dealers"), icon="fa-building", category="Accounts", category_label=_l("Accounts"))
    appbuilder.add_view(PrivacyRequestView, "Privacy requests", label=_l("Privacy requests"), icon="fa-user-secret", category="Privacy", category_label=_l("Privacy"))
    appbuilder.add_view(RecordOfProcessingView, "Record of processing", label=_l("Record of processing"), icon="fa-book", category="Privacy")
    appbuilder.add_view(MailOutboxView, "Mail outbox", label=_l("Mail outbox"), icon="fa-envelope-o", category="Privacy")
    for view in (DealerSocialLinkView, CarPriceChangeView, CarStatusChangeView, CarPhotoView):
        appbuilder.add_view_no_menu(view)
