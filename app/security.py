"""The user model (dealer + language) and the security manager.

Imported by path through ``FAB_SECURITY_MANAGER_CLASS``: keep it free of side effects
beyond declaring classes.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import RegisterUser, User
from sqlalchemy import Column, ForeignKey, Integer, String, text
from sqlalchemy.orm import relationship, validates

from app.domain.declarations import BY_CONTACT, DELETE, PLACEHOLDER, PrivacyDeclaration
from app.domain.grants import (  # noqa: F401  (the role names, re-exported)
    ADMIN,
    DEALER_ADMIN,
    DEALER_ROLES,
    DEALER_STAFF,
    INTERNAL_ROLES,
    PRIVACY_OFFICER,
    STAFF,
)
from app.domain.text import single_line
from app.domain.types import UTCDateTime
from app.i18n.languages import N_


class DealerUser(User):
    """FAB's user plus the dealer it works for (None: internal staff) and its language."""

    __tablename__ = "ab_user"

    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="SET NULL"), nullable=True, index=True)
    preferred_language = Column(String(5), nullable=True)
    # Set when the account is switched off; anonymised ("Former user #id") after
    # USER_ANONYMISE_AFTER_DAYS by the retention sweep.
    deactivated_at = Column(UTCDateTime, nullable=True, index=True)
    anonymised_at = Column(UTCDateTime, nullable=True)
    # Copied into the session and every JWT; moving it on ends them all (app/auth/sessions.py).
    session_version = Column(Integer, nullable=False, default=0, server_default=text("0"))
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
        not_personal={"preferred_language": "a setting", "session_version": "a counter"},
    )

    @validates("first_name", "last_name")
    def _single_line(self, key, value):
        return single_line(value, key)  # names reach e-mail headers and subjects


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
        from app.auth.views import (
            ForecourtAuthDBView,
            ForecourtResetMyPasswordView,
            ForecourtResetPasswordView,
            ForecourtSecurityApi,
        )
        from app.views.profile import ForecourtUserInfoEditView
        from app.views.users import ForecourtUserDBModelView

        self.userdbmodelview = ForecourtUserDBModelView
        self.userinfoeditview = ForecourtUserInfoEditView
        self.authdbview = ForecourtAuthDBView
        self.resetpasswordview = ForecourtResetPasswordView
        self.resetmypasswordview = ForecourtResetMyPasswordView
        self.security_api = ForecourtSecurityApi
        # FAB's "User's Statistics" is a chart view: Google Charts from a CDN, whose
        # loader passes the page's script nonce on to gstatic.com (DESIGN.md: not used).
        self.userstatschartview = None
        self._use_forecourt_datamodels()
        super().register_views()

    def create_jwt_manager(self, app):
        from app.auth.sessions import token_claims

        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(token_claims)
        return jwt_manager

    def auth_user_db(self, username, password):
        """FAB's check, behind the throttle of both logins (app/auth/throttle.py)."""
        from flask import has_request_context

        from app.auth import throttle

        if not has_request_context():  # the shell or a job: no client to throttle
            return super().auth_user_db(username, password)
        if throttle.is_throttled(username or ""):
            return None
        user = super().auth_user_db(username, password)
        if user is None:
            throttle.record_failure(username or "")
        else:
            throttle.record_success(username or "")
        return user

    def load_user(self, pk):
        """The session's user, while the session is current (version, idle, absolute)."""
        from flask import has_request_context

        from app.auth.sessions import session_is_current

        user = super().load_user(pk)
        if user is not None and has_request_context() and not session_is_current(user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The token's user, while the token carries the user's current version."""
        from flask import g

        from app.auth.sessions import token_is_current

        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user is None or not user.is_active or not token_is_current(user, jwt_data):
            return None
        g.user = user
        return user

    def _use_forecourt_datamodels(self) -> None:
        """FAB's user, role and permission lists get the same safe data interface as ours
        (app.datamodel): a bad id, page or sort in their URLs is not a 500 either."""
        from app.datamodel import ForecourtInterface

        for name in SECURITY_VIEWS:
            view = getattr(self, name, None)
            datamodel = getattr(view, "datamodel", None)
            if datamodel is not None and not isinstance(datamodel, ForecourtInterface):
                view.datamodel = ForecourtInterface(datamodel.obj)
