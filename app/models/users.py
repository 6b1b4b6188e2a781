"""The user account: FAB's user plus its dealer, language and lifecycle stamps; and FAB's
registration table, declared so it cannot silently start holding people's data."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import RegisterUser, User
from sqlalchemy import Column, ForeignKey, Integer, String, text
from sqlalchemy.orm import relationship, validates

from app.domain.declarations import BY_CONTACT, DELETE, PLACEHOLDER, PrivacyDeclaration
from app.domain.text import single_line
from app.i18n.languages import N_
from app.models.base import UTCDateTime


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
    # The usage log stops for this user (app/privacy/lifecycle/usage_log.py): a restriction
    # (GDPR Art. 18, until it is lifted) or an objection (Art. 21) to it.
    usage_restricted_at = Column(UTCDateTime, nullable=True)
    usage_objected_at = Column(UTCDateTime, nullable=True)
    dealer = relationship("Dealer", foreign_keys=[dealer_id])

    # Plain strings, not lazy_gettext: the security manager (imported by path) loads this before Babel is set
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
