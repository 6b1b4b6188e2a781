"""Every mapped model, imported once so the registry and migrations see them all."""

# ruff: noqa: I001  (the order matters: see below)
from __future__ import annotations

# The user model first: importing FAB's security manager configures mappers,
# which must not happen before the user model exists.
from app.models.users import DealerUser  # noqa: F401

from app.models.base import UTCDateTime, apply_scalar_defaults, utcnow  # noqa: F401
from app.models.breach import Breach, BreachDealerNotice, BreachReminder, BreachStatus, BreachSubjectNotice  # noqa: F401
from app.models.clients import Client, ClientSource  # noqa: F401
from app.models.consent import ConsentAction, ConsentMethod, ConsentPurpose, ConsentRecord  # noqa: F401
from app.models.dealers import Dealer, DealerSocialLink, DealerStatus  # noqa: F401
from app.models.history import ChangeRecord  # noqa: F401
from app.models.inquiries import Inquiry, InquirySource, InquiryStatus  # noqa: F401
from app.models.inventory import (  # noqa: F401
    BodyType,
    Car,
    CarCost,
    CarPhoto,
    CarPriceChange,
    CarStatus,
    CarStatusChange,
    Condition,
    CostKind,
    Fuel,
    MileageUnit,
    Transmission,
)
from app.models.imports import ImportBatch, ImportKind, ImportRow, ImportStatus  # noqa: F401
from app.models.lifecycle import RetentionEvent  # noqa: F401
from app.models.mail import MailMessage  # noqa: F401
from app.models.policy import PolicyVersion, SubProcessor, SubProcessorCategory, TransferSafeguard  # noqa: F401
from app.models.privacy import (  # noqa: F401
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Disclosure,
    ErasureLedgerEntry,
    PrivacyRequest,
    PrivacyRequestEvent,
    RectificationChange,
    RequestChannel,
    RequestStatus,
    RequestType,
)
from app.models.sales import Sale, SaleStatus  # noqa: F401
from app.models.saved_views import SavedView  # noqa: F401
from app.models.usage import PageView  # noqa: F401
