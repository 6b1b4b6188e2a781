"""What each role may reach (DESIGN.md, Roles), synced idempotently by `forecourt init`.

Grants name FAB view menus (view class names and menu entries); ``ALL`` means every
permission FAB registered for that view. Admin gets everything through FAB itself.
"""

from __future__ import annotations

from app.domain.grants import DEALER_ADMIN, DEALER_STAFF, PRIVACY_OFFICER, STAFF

ALL = "*"
READ = ("can_list", "can_show", "can_get", "can_info")

SIGNED_IN = {
    "ForecourtUserDBModelView": ("can_userinfo", "resetmypassword", "userinfoedit"),
    "ResetMyPasswordView": ("can_this_form_get", "can_this_form_post"),
    "UserInfoEditView": ("can_this_form_get", "can_this_form_post"),
    "OpenApi": ("can_get",),
    "SwaggerView": ("can_show",),
    "MenuApi": ("can_get",),
    "SavedViewsView": ALL,
    "Saved views": ALL,
}

DEALER_WORK = {
    "CarModelView": ALL,
    "CarApi": ALL,
    "CarPriceChangeView": ALL,
    "CarStatusChangeView": ALL,
    "CarPhotoView": ALL,
    "CarPhotosView": ALL,
    "CarPhotoApi": ALL,
    "ClientModelView": ALL,
    "ClientApi": ALL,
    "InquiryModelView": ALL,
    "InquiryApi": ALL,
    "SaleModelView": ALL,
    "SaleApi": ALL,
    "DisclosureModelView": ALL,
    "Inventory": ALL,
    "Cars": ALL,
    "Customers": ALL,
    "Clients": ALL,
    "Inquiries": ALL,
    "Sales": ALL,
    "Disclosures": ALL,
    "ConsentRecordView": ("can_list", "can_show"),  # the consent ledger, read-only
    "Consent ledger": ALL,
    # Import with preview (app.views.imports, app.api.imports): cars and clients.
    "ImportView": ALL,
    "Import cars": ALL,
    "Import clients": ALL,
    "CarImportApi": ALL,
    "ClientImportApi": ALL,
}

# Privacy requests: every tenant for the privacy officer, the own dealer for a dealer
# admin (the views and the API filter by tenant themselves).
PRIVACY_REQUESTS = {
    "PrivacyRequestView": ALL,
    "PrivacyRequestApi": ALL,
    "Privacy": ALL,
    "Privacy requests": ALL,
}

# Which users and roles an editor may touch is decided per row by app.domain.grants.
USER_ADMIN = {
    "ForecourtUserDBModelView": (
        "can_list",
        "can_show",
        "can_add",
        "can_edit",
        "can_delete",
        "can_userinfo",
        "resetmypassword",
        "resetpasswords",
        "userinfoedit",
    ),
    "ResetPasswordView": ("can_this_form_get", "can_this_form_post"),
    "Security": ALL,
    "List Users": ALL,
}

# The privacy policy's versions (drafts, publishing) and the sub-processor list; Staff
# reaches the Privacy menu only for the sub-processors.
POLICY_VERSIONS = {
    "PolicyVersionView": ALL,
    "Privacy policy": ALL,
}
SUBPROCESSORS = {
    "SubProcessorView": ALL,
    "Sub-processors": ALL,
    "Privacy": ALL,
}

ROLE_GRANTS: dict[str, dict[str, object]] = {
    DEALER_STAFF: {**SIGNED_IN, **DEALER_WORK},
    DEALER_ADMIN: {
        **SIGNED_IN,
        **DEALER_WORK,
        "CarCostView": ALL,
        "CarCostApi": ALL,
        "Costs": ALL,
        "DealerProfileView": ALL,
        "AccountView": ALL,
        "Account": ALL,
        "DealerSocialLinkView": ALL,
        "Dealership": ALL,
        "Dealer profile": ALL,
        **PRIVACY_REQUESTS,
        **USER_ADMIN,
    },
    STAFF: {
        **SIGNED_IN,
        "DealerModelView": ALL,
        "DealerApi": ALL,
        "DealerSocialLinkView": ALL,
        "Accounts": ALL,
        "Dealers": ALL,
        **USER_ADMIN,
        **SUBPROCESSORS,
        "UsageLogView": ("can_list", "can_show"),
        "Usage log": ALL,
    },
    PRIVACY_OFFICER: {
        **SIGNED_IN,
        "DealerModelView": ("can_list", "can_show"),
        "DealerApi": ("can_get", "can_info"),
        "Accounts": ALL,
        "Dealers": ALL,
        **PRIVACY_REQUESTS,
        **POLICY_VERSIONS,
        **SUBPROCESSORS,
        "RecordOfProcessingView": ALL,
        "Record of processing": ALL,
        "MailOutboxView": ("can_list", "can_show"),
        "Mail outbox": ALL,
        "RetentionEventView": ("can_list", "can_show"),
        "Retention log": ALL,
        "BreachView": ALL,
        "Breach register": ALL,
        "KeptSaleView": ("can_list", "can_show"),  # erased buyers' sales kept for accounting
        "Kept sales": ALL,
        "ConsentRecordView": ("can_list", "can_show"),
        "All consent records": ALL,
    },
}


def sync_roles(appbuilder) -> dict[str, int]:
    """Register every view's permissions, then make each role hold exactly its grants.

    Admin receives every permission from FAB itself; returns permission counts per role.
    """
    sm = appbuilder.sm
    for name in (sm.auth_role_admin, sm.auth_role_public):
        sm.find_role(name) or sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)
    by_view: dict[str, list] = {}
    for pvm in sm.session.query(sm.permissionview_model).all():
        if pvm.view_menu is not None and pvm.permission is not None:
            by_view.setdefault(pvm.view_menu.name, []).append(pvm)
    counts = {}
    for role_name, grants in ROLE_GRANTS.items():
        role = sm.find_role(role_name) or sm.add_role(role_name)
        wanted = []
        for view_name, perms in grants.items():
            for pvm in by_view.get(view_name, []):
                if perms == ALL or pvm.permission.name in perms:
                    wanted.append(pvm)
        role.permissions = wanted
        counts[role_name] = len(wanted)
    sm.session.commit()
    return counts
