"""The mail outbox, read-only: what was (or is still to be) sent to whom, newest first.

In development (no ``MAIL_SERVER``) this is where the notices are read; in production it
shows the delivery state, the attempts and the last error of each message, and flags the
ones given up after the last retry (the privacy officer is e-mailed about those too).
"""

from __future__ import annotations

from typing import ClassVar

from flask_appbuilder import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.datamodel import ForecourtInterface
from app.domain.formatting import format_datetime
from app.finding import FindingMixin
from app.models import MailMessage


def _preformatted(text: str | None) -> Markup:
    return Markup('<pre class="mail-body">{}</pre>').format(text or "")


def _given_up(when) -> Markup:
    """A visible flag: the last retry failed too, nobody will try again by themselves."""
    if when is None:
        return Markup("")
    label = _("Given up %(when)s", when=format_datetime(when))
    return Markup('<span class="label label-danger mail-failed">{}</span>').format(label)


class MailOutboxView(FindingMixin, ModelView):
    datamodel = ForecourtInterface(MailMessage)
    route_base = "/mailoutbox"
    base_permissions: ClassVar[list[str]] = ["can_list", "can_show"]
    base_order = ("created_at", "desc")
    list_title = _l("Mail outbox")
    show_title = _l("E-mail")
    list_columns: ClassVar[list[str]] = [
        "created_at",
        "kind",
        "to_address",
        "subject",
        "sent_at",
        "transport",
        "attempts",
        "last_error",
        "failed_at",
    ]
    show_columns: ClassVar[list[str]] = [
        "created_at",
        "kind",
        "language",
        "to_address",
        "subject",
        "request",
        "sent_at",
        "transport",
        "attempts",
        "last_error",
        "failed_at",
        "scrubbed_at",
        "body_text",
    ]
    search_columns: ClassVar[list[str]] = ["kind", "to_address", "subject", "transport", "sent_at", "failed_at", "created_at"]
    label_columns: ClassVar[dict] = {
        "created_at": _l("Created"),
        "kind": _l("Kind"),
        "language": _l("Language"),
        "to_address": _l("To"),
        "subject": _l("Subject"),
        "request": _l("Privacy request"),
        "sent_at": _l("Sent"),
        "transport": _l("Transport"),
        "attempts": _l("Attempts"),
        "last_error": _l("Last error"),
        "failed_at": _l("Given up"),
        "scrubbed_at": _l("Emptied after sending"),
        "body_text": _l("Text"),
    }
    formatters_columns: ClassVar[dict] = {
        "created_at": format_datetime,
        "sent_at": format_datetime,
        "scrubbed_at": format_datetime,
        "failed_at": _given_up,
        "body_text": _preformatted,
    }
