"""The security manager: FAB's, with Forecourt's user model, views, throttled login and
session checks.

Imported by path through ``FAB_SECURITY_MANAGER_CLASS``: keep it free of side effects
beyond declaring classes.
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_appbuilder.security.sqla.manager import SecurityManager

from app.auth import throttle
from app.auth.sessions import session_is_current, token_claims, token_is_current
from app.auth.views import ForecourtAuthDBView, ForecourtResetMyPasswordView, ForecourtResetPasswordView, ForecourtSecurityApi
from app.datamodel import ForecourtInterface
from app.models.users import DealerUser
from app.views.profile import ForecourtUserInfoEditView
from app.views.users import ForecourtUserDBModelView

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
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(token_claims)
        return jwt_manager

    def auth_user_db(self, username, password):
        """FAB's check, behind the throttle of both logins (app/auth/throttle.py)."""
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
        user = super().load_user(pk)
        if user is not None and has_request_context() and not session_is_current(user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The token's user, while the token carries the user's current version."""
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user is None or not user.is_active or not token_is_current(user, jwt_data):
            return None
        g.user = user
        return user

    def _use_forecourt_datamodels(self) -> None:
        """FAB's user, role and permission lists get the same safe data interface as ours
        (app.datamodel): a bad id, page or sort in their URLs is not a 500 either."""
        for name in SECURITY_VIEWS:
            view = getattr(self, name, None)
            datamodel = getattr(view, "datamodel", None)
            if datamodel is not None and not isinstance(datamodel, ForecourtInterface):
                view.datamodel = ForecourtInterface(datamodel.obj)
