"""The user model (dealer + language) and the security manager.

Imported by path through ``FAB_SECURITY_MANAGER_CLASS``: keep it free of side effects
beyond declaring classes.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import RegisterUser, User
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.domain.declarations import BY_CONTACT, DELETE, PLACEHOLDER, PrivacyDeclaration
from app.domain.languages import N_
from app.domain.types import UTCDateTime

ADMIN = "Admin"
STAFF = "Staff"
PRIVACY_OFFICER = "PrivacyOfficer"
DEALER_ADMIN = "DealerAdmin"
DEALER_STAFF = "DealerStaff"
DEALER_ROLES = (DEALER_ADMIN, DEALER_STAFF)
INTERNAL_ROLES = (ADMIN, STAFF, PRIVACY_OFFICER)


class DealerUser(User):
    """FAB's user plus the dealer it works for (None: internal staff) and its language."""

    __tablename__ = "ab_user"

    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="SET NULL"), nullable=True, index=True)
    preferred_language = Column(String(5), nullable=True)
    # Set when the account is switched off; anonymised ("Former user #id") after
    # USER_ANONYMISE_AFTER_DAYS by the retention sweep.
    deactivated_at = Column(UTCDateTime, nullable=True, index=True)
    anonymised_at = Column(UTCDateTime, nullable=True)
    dealer = relationship("Dealer", foreign_keys=[dealer_id])

    # Plain strings, not lazy_gettext: this module is imported by path before Babel is set
    # up; N_ marks them for extraction, and the record of processing and the export
    # summary translate them when they render them.
    __privacy__ = PrivacyDeclaration(
        category="accounts",
        title=N_("User accounts"),
        purpose=N_("Signing in and working in Forecourt for your dealership"),
        legal_basis=N_("Contract (GDPR Art. 6(1)(b))"),
        recipients=N_("Your dealership's administrators; Forecourt's staff"),
        retention=N_("Until the account is deleted; deactivated accounts are anonymised after 30 days"),
        source=N_("You, or your dealership's administrator"),
        personal={
            "first_name": PLACEHOLDER,
            "last_name": PLACEHOLDER,
            "username": PLACEHOLDER,
            "email": PLACEHOLDER,
            "password": PLACEHOLDER,
        },
        find=(BY_CONTACT,),
        email_column="email",
        scope_column=None,
        platform_only=True,
        export_columns=("username", "first_name", "last_name", "email", "created_on", "last_login", "login_count"),
        keep_reason=N_("Records the user created stay linked to an anonymised account"),
        not_personal={"preferred_language": "a setting"},
    )


# Self-registration is off, so this FAB table stays empty; declared so it cannot
# silently start holding people's data.
RegisterUser.__privacy__ = PrivacyDeclaration(
    category="registrations",
    title=N_("Pending registrations"),
    purpose=N_("Self-registration (switched off)"),
    legal_basis=N_("Contract (GDPR Art. 6(1)(b))"),
    recipients=N_("Nobody"),
    retention=N_("Not collected"),
    source=N_("You"),
    personal={"first_name": DELETE, "last_name": DELETE, "username": DELETE, "email": DELETE, "password": DELETE},
    find=(BY_CONTACT,),
    email_column="email",
    scope_column=None,
    platform_only=True,
    export_columns=("username", "first_name", "last_name", "email", "registration_date"),
)


SECURITY_VIEWS = (
    "userdbmodelview",
    "rolemodelview",
    "groupmodelview",
    "permissionmodelview",
    "viewmenumodelview",
    "permissionviewmodelview",
    "registerusermodelview",
)


class ForecourtSecurityManager(SecurityManager):
    user_model = DealerUser

    def register_views(self) -> None:
        from app.views.profile import ForecourtUserInfoEditView
        from app.views.users import ForecourtUserDBModelView

        self.userdbmodelview = ForecourtUserDBModelView
        self.userinfoeditview = ForecourtUserInfoEditView
        self._use_forecourt_datamodels()
        super().register_views()

    def _use_forecourt_datamodels(self) -> None:
        """FAB's user, role and permission lists get the same safe data interface as ours
        (app.datamodel): a bad id, page or sort in their URLs is not a 500 either."""
        from app.datamodel import ForecourtInterface

        for name in SECURITY_VIEWS:
            view = getattr(self, name, None)
            datamodel = getattr(view, "datamodel", None)
            if datamodel is not None and not isinstance(datamodel, ForecourtInterface):
                view.datamodel = ForecourtInterface(datamodel.obj)
