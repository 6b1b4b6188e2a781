"""The user model (dealer + language) and the security manager.

Imported by path through ``FAB_SECURITY_MANAGER_CLASS``: keep it free of side effects
beyond declaring classes.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

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
    dealer = relationship("Dealer", foreign_keys=[dealer_id])


class ForecourtSecurityManager(SecurityManager):
    user_model = DealerUser

    def register_views(self) -> None:
        from app.views.users import ForecourtUserDBModelView

        self.userdbmodelview = ForecourtUserDBModelView
        super().register_views()
