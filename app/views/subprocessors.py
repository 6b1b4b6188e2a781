"""The sub-processor list: adding a company tells every dealer admin; none is ever deleted.

Thin: the rules live in ``app.privacy.transparency.subprocessors``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from flask import current_app
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.datamodel import ForecourtInterface
from app.domain import DomainError
from app.domain.enum_labels import choices, label_of_value
from app.domain.formatting import format_date, format_datetime
from app.extensions import db
from app.finding import FindingMixin
from app.models import SubProcessor, SubProcessorCategory, TransferSafeguard
from app.models.base import utcnow
from app.privacy.transparency import subprocessors
from app.saving import refused_forms_rolled_back

SUBPROCESSOR_LABELS = {
    "name": _l("Company"),
    "purpose": _l("Purpose"),
    "location": _l("Location"),
    "since": _l("Since"),
    "website": _l("Website"),
    "removed_on": _l("Removed on"),
    "notified_at": _l("Dealer admins notified"),
    "created_at": _l("Created"),
    "category": _l("Category"),
    "country": _l("Country"),
    "dpa_signed_on": _l("Data processing agreement signed on"),
    "transfer_safeguard": _l("Transfer safeguard"),
}
SUBPROCESSOR_DESCRIPTIONS = {
    "purpose": _l("For example: hosting, e-mail delivery."),
    "location": _l("Where the data is processed, for example: Germany (EU)."),
    "since": _l("May be up to 180 days ahead, to announce a company before it starts."),
    "removed_on": _l("Set this when the company stops processing data for us; the public list keeps it for a year."),
    "category": _l("Access summaries and the record of processing name the company under this category."),
    "country": _l("Two-letter ISO 3166 code of the country where the data is processed, e.g. DE."),
    "dpa_signed_on": _l("Leave empty while no agreement (GDPR Art. 28(3)) is signed: summaries then say so."),
    "transfer_safeguard": _l("Required for a country outside the EEA."),
}


def _enum_choice(enum_class: type[enum.Enum]) -> Callable[[Any], Any]:
    """Coerces what a form or FAB's show widget holds (member, value or name) to a member."""

    def coerce(value: Any) -> Any:
        if value in (None, "") or isinstance(value, enum_class):
            return value or None
        return enum_class(getattr(value, "value", value))

    return coerce


ENUM_FIELDS = {
    "category": SelectField(
        _l("Category"),
        choices=choices(SubProcessorCategory),
        coerce=_enum_choice(SubProcessorCategory),
        default=SubProcessorCategory.hosting,
        widget=Select2Widget(),
    ),
    "transfer_safeguard": SelectField(
        _l("Transfer safeguard"),
        choices=[("", "—"), *choices(TransferSafeguard)],
        coerce=_enum_choice(TransferSafeguard),
        default="",
        widget=Select2Widget(),
    ),
}


class SinceInRange:
    """The start date's rule, next to the field (the domain checks it again)."""

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        if field.data > utcnow().date() + timedelta(days=subprocessors.MAX_DAYS_AHEAD):
            raise ValidationError(
                _(
                    "The start date can be at most %(days)s days ahead.",
                    days=subprocessors.MAX_DAYS_AHEAD,
                )
            )


class SubProcessorView(FindingMixin, ModelView):
    """The public list of sub-processors; adding one tells every dealer admin."""

    datamodel = ForecourtInterface(SubProcessor)
    route_base = "/subprocessors"
    list_title = _l("Sub-processors")
    show_title = _l("Sub-processor")
    add_title = _l("Add a sub-processor")
    edit_title = _l("Edit sub-processor")
    # Never deleted: a removal date keeps the public record of who processed data.
    base_permissions: ClassVar[list[str]] = [
        "can_list",
        "can_show",
        "can_add",
        "can_edit",
    ]
    exclude_route_methods: ClassVar[set[str]] = {
        "delete",
        "download",
        "action",
        "action_post",
    }
    list_columns: ClassVar[list[str]] = [
        "name",
        "category",
        "purpose",
        "location",
        "dpa_signed_on",
        "since",
        "removed_on",
        "notified_at",
    ]
    show_columns: ClassVar[list[str]] = [
        "name",
        "category",
        "purpose",
        "location",
        "country",
        "dpa_signed_on",
        "transfer_safeguard",
        "since",
        "website",
        "removed_on",
        "notified_at",
        "created_at",
    ]
    add_columns: ClassVar[list[str]] = [
        "name",
        "category",
        "purpose",
        "location",
        "country",
        "dpa_signed_on",
        "transfer_safeguard",
        "since",
        "website",
    ]
    edit_columns: ClassVar[list[str]] = [
        "name",
        "category",
        "purpose",
        "location",
        "country",
        "dpa_signed_on",
        "transfer_safeguard",
        "since",
        "website",
        "removed_on",
    ]
    search_columns: ClassVar[list[str]] = [
        "name",
        "purpose",
        "location",
        "since",
        "removed_on",
    ]
    base_order = ("name", "asc")
    label_columns = SUBPROCESSOR_LABELS
    description_columns = SUBPROCESSOR_DESCRIPTIONS
    validators_columns: ClassVar[dict] = {"since": [SinceInRange()]}
    add_form_extra_fields: ClassVar[dict] = ENUM_FIELDS
    edit_form_extra_fields: ClassVar[dict] = ENUM_FIELDS
    formatters_columns: ClassVar[dict] = {
        "category": lambda value: label_of_value(SubProcessorCategory, value),
        "transfer_safeguard": lambda value: label_of_value(TransferSafeguard, value) if value else "",
        "dpa_signed_on": format_date,
        "since": format_date,
        "removed_on": format_date,
        "notified_at": format_datetime,
        "created_at": format_datetime,
    }

    def pre_add(self, item):
        self._guarded(item)
        # The dealer admins are told in the same transaction: FAB's single commit writes
        # the row and its notices together (their mail jobs are enqueued after it), so a
        # sub-processor is never saved without them.
        with refused_forms_rolled_back():
            try:
                db.session.add(item)
                db.session.flush()
                subprocessors.notify_added(db.session, item)
            except DomainError:
                raise
            except Exception as exc:
                current_app.logger.exception("telling the dealer admins about a sub-processor failed")
                raise DomainError(_l("The sub-processor was not saved: the dealer administrators could not be told. Try again.")) from exc

    def pre_update(self, item):
        self._guarded(item)

    @staticmethod
    def _guarded(item):
        with refused_forms_rolled_back():
            subprocessors.check_subprocessor(item)
