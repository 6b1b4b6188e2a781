"""Client rules: an objection to direct marketing keeps marketing consent off.
(Possible duplicates are flagged by ``app.models.rules``.)"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.domain import DomainError


def check_marketing_consent(client: Any) -> None:
    """An objection to direct marketing stops it with no exceptions (GDPR Art. 21(3)):
    consent stays off until the objection itself is cleared (``withdraw_objection``)."""
    if client.marketing_consent and client.marketing_objected_at is not None:
        raise DomainError(
            _l(
                "This client objected to direct marketing, so marketing consent cannot be turned on. "
                "The privacy officer must record that the objection was withdrawn first."
            ),
            "marketing_consent",
        )


def withdraw_objection(client: Any) -> None:
    """The person withdrew their objection (the explicit step before consent may return)."""
    client.marketing_objected_at = None
