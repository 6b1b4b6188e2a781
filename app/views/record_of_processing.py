"""The record of processing activities (GDPR Art. 30), generated from the privacy registry."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.domain.enum_labels import enum_label
from app.extensions import db
from app.privacy.transparency.record import processors, record_of_processing
from app.views.privacy_display import declared_text


class RecordOfProcessingView(BaseView):
    """GDPR Art. 30: every registered processing, generated from the privacy registry."""

    route_base = "/recordofprocessing"
    default_view = "show"
    template = "privacy/record.html"

    @expose("/")
    @has_access
    def show(self):
        return self.render_template(
            self.template,
            title=_("Record of processing activities"),
            entries=record_of_processing(declared_text),
            translate=declared_text,
            processors=processors(db.session),
            label=enum_label,
            officer_email=current_app.config.get("PRIVACY_OFFICER_EMAIL"),
        )
