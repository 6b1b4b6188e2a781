"""Usage and technical data: the page views of signed-in users, kept 90 days."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.domain import periods
from app.domain.declarations import BY_USER, DELETE, PrivacyDeclaration
from app.models.base import RestrictableMixin, UTCDateTime, utcnow


class PageView(RestrictableMixin, Model):
    """One page a signed-in user opened. ``duration_ms`` is the time until their next
    page view (capped); ``ip_address`` and ``user_agent`` only when the user's dealer
    records IPs; ``referrer_origin`` is the referring page's scheme and host, never its
    path or query. ``restricted_at``: the user restricted or objected to the usage log
    (GDPR Art. 18, 21): kept until the retention sweep deletes it, used for nothing else."""

    __tablename__ = "page_view"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    path = Column(String(500), nullable=False)
    feature = Column(String(120))
    viewed_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    duration_ms = Column(Integer)
    user_agent = Column(String(300))
    ip_address = Column(String(45))
    referrer_origin = Column(String(300))

    user = relationship("DealerUser", foreign_keys=[user_id])

    __privacy__ = PrivacyDeclaration(
        category="usage",
        title=_l("Usage and technical data"),
        purpose=_l("Keeping the service secure and finding out which features are used"),
        legal_basis=_l("Legitimate interests (GDPR Art. 6(1)(f))"),
        recipients=_l(
            "Forecourt's staff; your dealership's administrators receive the pages and times (never the IP address or browser) in the dealership's account export"
        ),
        retention=_l("%(days)s days", days=periods.USAGE_LOG_RETENTION_DAYS),
        source=_l("Your browser, while you are signed in"),
        personal={"path": DELETE, "user_agent": DELETE, "ip_address": DELETE, "referrer_origin": DELETE},
        find=(BY_USER,),
        user_column="user_id",
        scope_column=None,
        platform_only=True,
        export_columns=("viewed_at", "path", "feature", "duration_ms", "user_agent", "ip_address", "referrer_origin"),
        # What the dealer's administrators get about their staff: no technical data.
        account_export_columns=("id", "user_id", "dealer_id", "viewed_at", "path", "feature", "duration_ms"),
    )
