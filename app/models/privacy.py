"""Data-subject requests, their event log, the erasure ledger, the disclosure log and
rectification records."""

from __future__ import annotations

import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, Column, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship, validates

from app.domain import periods
from app.domain.contact import normalise_email, normalise_phone
from app.domain.declarations import BY_CLIENT, BY_CONTACT, BY_REQUEST, DELETE, PLACEHOLDER, PrivacyDeclaration
from app.models.base import DealerOwnedMixin, UTCDateTime, utcnow


class RequestType(enum.Enum):
    access = "access"
    portability = "portability"
    rectification = "rectification"
    erasure = "erasure"
    restriction = "restriction"
    objection = "objection"
    # A dealer's whole account (the data export tool, GDPR Art. 20 and 28(3)(g)).
    account_export = "account_export"


class RequestStatus(enum.Enum):
    received = "received"
    awaiting_verification = "awaiting_verification"
    verified = "verified"
    in_progress = "in_progress"
    completed = "completed"
    refused = "refused"
    cancelled = "cancelled"


OPEN_STATUSES = (
    RequestStatus.received,
    RequestStatus.awaiting_verification,
    RequestStatus.verified,
    RequestStatus.in_progress,
)
CLOSED_STATUSES = (RequestStatus.completed, RequestStatus.refused, RequestStatus.cancelled)


class RequestChannel(enum.Enum):
    public_form = "public_form"
    officer = "officer"
    dealer_admin = "dealer_admin"


def _enum(cls, length=30):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class PrivacyRequest(Model):
    """One data-subject request, from receipt to its certificate.

    ``dealer_id`` is the scope: a dealer (the controller of its clients' data) or None
    for the whole platform. The subject's identifiers are pseudonymised (``subject_key``
    and ``subject_hint`` remain) once an erasure is complete.
    """

    __tablename__ = "privacy_request"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    request_type = Column(_enum(RequestType), nullable=False)
    status = Column(_enum(RequestStatus), nullable=False, default=RequestStatus.received, index=True)
    channel = Column(_enum(RequestChannel), nullable=False, default=RequestChannel.public_form)
    dealer_id = Column(Integer, ForeignKey("dealer.id", ondelete="SET NULL"), index=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="SET NULL"), index=True)
    subject_email = Column(String(254), index=True)
    subject_phone = Column(String(20))
    subject_name = Column(String(200))
    subject_key = Column(String(64), index=True)
    subject_hint = Column(String(100))
    language = Column(String(5), nullable=False, default="en")
    details = Column(Text)

    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    due_at = Column(UTCDateTime, nullable=False)
    original_due_at = Column(UTCDateTime)
    verification_sent_at = Column(UTCDateTime)
    verification_expires_at = Column(UTCDateTime)
    verified_at = Column(UTCDateTime)
    started_at = Column(UTCDateTime)
    completed_at = Column(UTCDateTime)
    refused_at = Column(UTCDateTime)
    cancelled_at = Column(UTCDateTime)
    extended_at = Column(UTCDateTime)
    extension_reason = Column(Text)
    refusal_reason = Column(Text)
    possible_duplicate_of_id = Column(Integer, ForeignKey("privacy_request.id", ondelete="SET NULL"))
    created_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    # Work in progress (the database is the source of truth; RQ meta mirrors it).
    phase = Column(String(30))
    progress_done = Column(Integer, nullable=False, default=0)
    progress_total = Column(Integer, nullable=False, default=0)
    failure = Column(String(300))
    erasure_preview = Column(JSON)
    erasure_confirmed_at = Column(UTCDateTime)
    erasure_confirmed_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    certificate = Column(JSON)
    restriction_lift_requested_at = Column(UTCDateTime)
    # Rectification: [{"table", "pk", "column", "old", "new"}] proposed, then applied by the job.
    rectification_proposal = Column(JSON)

    # The access/portability package.
    export_path = Column(String(500))
    export_sha256 = Column(String(64))
    export_size = Column(BigInteger)
    export_created_at = Column(UTCDateTime)
    export_expires_at = Column(UTCDateTime)

    dealer = relationship("Dealer")
    client = relationship("Client")
    # Who filed it (an officer files for any dealer): not a tenant reference, so viewonly.
    created_by = relationship("DealerUser", foreign_keys=[created_by_id], viewonly=True)
    possible_duplicate_of = relationship("PrivacyRequest", remote_side=[id])
    events = relationship("PrivacyRequestEvent", back_populates="request", order_by="PrivacyRequestEvent.id", viewonly=True)

    __privacy__ = PrivacyDeclaration(
        category="privacy_requests",
        title=_l("Privacy requests"),
        purpose=_l("Answering data-subject requests and proving that we did"),
        legal_basis=_l("Legal obligation (GDPR Art. 6(1)(c), Art. 12 and 5(2))"),
        recipients=_l("The privacy officer; the dealer the request is addressed to"),
        retention=_l(
            "%(years)s years after the request is closed; identifiers are pseudonymised when an erasure completes",
            years=periods.REQUEST_RECORD_YEARS,
        ),
        source=_l("You, through the request form, or the dealer on your behalf"),
        personal={
            "subject_email": PLACEHOLDER,
            "subject_phone": PLACEHOLDER,
            "subject_name": PLACEHOLDER,
            "details": PLACEHOLDER,
            "rectification_proposal": PLACEHOLDER,
            # Free text the staff write; it may name the person.
            "extension_reason": PLACEHOLDER,
            "refusal_reason": PLACEHOLDER,
        },
        find=(BY_CONTACT,),
        email_column="subject_email",
        phone_column="subject_phone",
        export_columns=(
            "reference",
            "request_type",
            "status",
            "channel",
            "subject_email",
            "subject_phone",
            "subject_name",
            "details",
            "received_at",
            "due_at",
            "completed_at",
            "refused_at",
            "refusal_reason",
        ),
        keep_reason=_l("Proof that the request was answered (GDPR Art. 5(2))"),
        not_personal={"subject_hint": "masked form only", "subject_key": "keyed hash"},
    )

    def __str__(self) -> str:
        return self.reference or f"#{self.id}"

    @validates("subject_email")
    def _email(self, key, value):
        return normalise_email(value)

    @validates("subject_phone")
    def _phone(self, key, value):
        return normalise_phone(value, self.dealer.country if self.dealer else None)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PrivacyRequestEvent(Model):
    """Append-only: who did what to a request, when. Never holds personal data."""

    __tablename__ = "privacy_request_event"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("privacy_request.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    actor_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    actor_label = Column(String(40), nullable=False, default="system")
    kind = Column(String(40), nullable=False)
    data = Column(JSON)

    request = relationship("PrivacyRequest", back_populates="events")
    actor = relationship("DealerUser", foreign_keys=[actor_id])

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class ErasureLedgerEntry(Model):
    """One erased or anonymised row, kept so that erasures can be replayed after a backup
    restore. ``subject_key`` is a keyed hash: the ledger itself holds no identifiers."""

    __tablename__ = "erasure_ledger"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("privacy_request.id", ondelete="SET NULL"), index=True)
    subject_key = Column(String(64), nullable=False, index=True)
    table_name = Column(String(64), nullable=False)
    row_pk = Column(String(64), nullable=False)
    action = Column(String(20), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


class Disclosure(DealerOwnedMixin, Model):
    """A client's data given to a third party (finance partner, insurer, registration
    office): the people GDPR Art. 19 says we tell about rectification, erasure and
    restriction."""

    __tablename__ = "disclosure"

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="CASCADE"), nullable=False, index=True)
    recipient = Column(String(200), nullable=False)
    recipient_email = Column(String(254))
    purpose = Column(String(200), nullable=False)
    data_categories = Column(String(300))
    disclosed_on = Column(Date, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    client = relationship("Client")

    __privacy__ = PrivacyDeclaration(
        category="disclosures",
        title=_l("Disclosures to third parties"),
        purpose=_l("Telling recipients about rectification, erasure and restriction (GDPR Art. 19)"),
        legal_basis=_l("Legal obligation (GDPR Art. 6(1)(c), Art. 19)"),
        recipients=_l("The dealer"),
        retention=_l("As long as the client record it belongs to"),
        source=_l("The dealer"),
        personal={"client_id": DELETE},
        find=(BY_CLIENT,),
        client_column="client_id",
        export_columns=("recipient", "purpose", "data_categories", "disclosed_on"),
        not_personal={"recipient_email": "a business address of the recipient organisation"},
    )

    def __str__(self) -> str:
        return f"{self.recipient} ({self.disclosed_on})"

    @validates("recipient_email")
    def _email(self, key, value):
        return normalise_email(value)


class RectificationChange(Model):
    """Old and new value of one rectified column (GDPR Art. 16)."""

    __tablename__ = "rectification_change"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("privacy_request.id", ondelete="CASCADE"), nullable=False, index=True)
    table_name = Column(String(64), nullable=False)
    row_pk = Column(String(64), nullable=False)
    column_name = Column(String(64), nullable=False)
    old_value = Column(Text)
    new_value = Column(Text)
    changed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    changed_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))

    __privacy__ = PrivacyDeclaration(
        category="rectifications",
        title=_l("Rectifications"),
        purpose=_l("Proving what was corrected at your request (GDPR Art. 16)"),
        legal_basis=_l("Legal obligation (GDPR Art. 6(1)(c))"),
        recipients=_l("The privacy officer; the dealer"),
        retention=_l("As long as the request it belongs to"),
        source=_l("You"),
        personal={"old_value": PLACEHOLDER, "new_value": PLACEHOLDER},
        find=(BY_REQUEST,),
        request_column="request_id",
        scope_column=None,
        export_columns=("table_name", "column_name", "old_value", "new_value", "changed_at"),
    )
