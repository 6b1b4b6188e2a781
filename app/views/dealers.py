"""Dealers: all of them for internal staff, the own profile for a dealer admin."""

from __future__ import annotations

from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l

from app.datamodel import ForecourtInterface
from app.domain.text import web_address
from app.extensions import db
from app.finding import FindingMixin
from app.form_fields import DomainRule, OptionalCheckboxesMixin, single_line_validators
from app.models import Dealer, DealerSocialLink
from app.tenancy import PermittedRelatedViewsMixin, TenantModelView, current_user
from app.views.account import DealerTerminationMixin
from app.views.inventory import CarModelView
from app.views.labels import DEALER_LABELS

_PROFILE = [
    "business_name",
    "legal_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "phone",
    "email",
    "website",
]
_SETTINGS = ["record_visitor_ip", "inquiry_retention_months", "timezone", "default_currency"]
# The model refuses these too (REST, scripts); on the form the error shows next to the field.
_VALIDATORS = {
    **single_line_validators("business_name", "legal_name", "address_line1", "address_line2", "postal_code", "city", "region"),
    "website": [DomainRule(web_address)],
}


class DealerSocialLinkView(TenantModelView):
    datamodel = ForecourtInterface(DealerSocialLink)
    list_title = _l("Social links")
    list_columns = ["platform", "url"]
    add_columns = ["dealer", "platform", "url"]
    edit_columns = ["platform", "url"]
    label_columns = DEALER_LABELS
    validators_columns = {**single_line_validators("platform"), "url": [DomainRule(web_address)]}


class DealerModelView(FindingMixin, DealerTerminationMixin, PermittedRelatedViewsMixin, OptionalCheckboxesMixin, ModelView):
    """Every dealer account: Staff and Admin (who terminate it from its page)."""

    datamodel = ForecourtInterface(Dealer)
    # No delete: a dealer ends through termination (export, day 30, 3 years), never a hard delete.
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_terminate"]
    list_title = _l("Dealers")
    related_views = [DealerSocialLinkView, CarModelView]
    list_columns = ["business_name", "slug", "city", "country", "status", "created_at"]
    search_columns = ["business_name", "legal_name", "slug", "city", "country", "status"]
    add_columns = ["slug"] + _PROFILE + _SETTINGS
    edit_columns = add_columns  # termination goes through its own action, never a status edit
    validators_columns = _VALIDATORS
    show_fieldsets = [
        (_l("Profile"), {"fields": ["slug"] + _PROFILE}),
        (_l("Settings"), {"fields": _SETTINGS + ["status", "terminated_at"]}),
    ]
    label_columns = DEALER_LABELS


class DealerProfileView(TenantModelView):
    """The dealer admin's own profile and settings."""

    datamodel = ForecourtInterface(Dealer)
    tenant_column = "id"
    list_title = _l("Dealer profile")
    base_permissions = ["can_list", "can_show", "can_edit"]
    related_views = [DealerSocialLinkView]
    list_columns = ["business_name", "city", "country", "phone", "email"]
    edit_columns = _PROFILE + _SETTINGS
    validators_columns = _VALIDATORS
    show_fieldsets = DealerModelView.show_fieldsets
    label_columns = DEALER_LABELS

    def _prepare(self, item, is_new):
        db.session.info["acting_user_id"] = getattr(current_user(), "id", None)
        return []
