"""The privacy policy's versions: drafts and the Publish step.

Thin: the rules live in ``app.privacy.transparency.policy_*`` and ``app.privacy.transparency.subprocessors``; a
published version is refused there and again at flush time, whatever this view does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from flask import abort, flash, redirect, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, DateTimeLocalField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.datamodel import ForecourtInterface
from app.domain.formatting import format_datetime
from app.domain.policy_text import render_policy
from app.extensions import db
from app.form_fields import OptionalCheckboxesMixin
from app.models import PolicyVersion
from app.models.base import utcnow
from app.privacy.transparency import policy_drafts, policy_publishing, policy_versions
from app.saving import refused_forms_rolled_back, saving
from app.tenancy import current_user

POLICY_LABELS = {
    "version": _l("Version"),
    "title": _l("Title"),
    "summary": _l("Summary of changes"),
    "body": _l("Text"),
    "material": _l("Material change"),
    "state": _l("State"),
    "published_at": _l("Published"),
    "effective_at": _l("Takes effect"),
    "notified_at": _l("Users notified"),
    "published_by": _l("Published by"),
    "created_at": _l("Created"),
}
POLICY_DESCRIPTIONS = {
    "summary": _l("What changes, in a few sentences: the announcement e-mail and the banner show it."),
    "body": _l(
        "Plain text. Blank lines separate paragraphs; a line “# Title {#anchor}” starts a section; "
        "lines starting with “- ” form a list. Web addresses, pages such as /privacy/request and "
        "e-mail addresses become links."
    ),
    "material": _l(
        "A material change is announced to every user by e-mail and takes effect at least 14 days later. A typo fix is not material."
    ),
}


def policy_state(item: PolicyVersion, now: datetime | None = None) -> str:
    now = now or utcnow()
    if item.published_at is None:
        return str(_l("Draft"))
    if item.effective_at > now:
        return str(_l("Published, takes effect later"))
    current = policy_versions.current_version(db.session, now)
    return str(_l("In force")) if current is not None and current.id == item.id else str(_l("Earlier version"))


class PolicyVersionInterface(ForecourtInterface):
    """The list's derived "state" column."""

    def _get_attr_value(self, item, col):
        if col == "state":
            return policy_state(item)
        return super()._get_attr_value(item, col)


def _yes_no(value) -> str:
    return str(_l("Yes")) if value else str(_l("No"))


def _preformatted(text: str | None) -> Markup:
    return Markup('<div class="policy-summary">{}</div>').format(text or "")


class PolicyVersionView(OptionalCheckboxesMixin, ModelView):
    """Drafts are edited here; "Publish" fixes a version for good (its own form)."""

    datamodel = PolicyVersionInterface(PolicyVersion)
    route_base = "/policyversions"
    list_title = _l("Privacy policy versions")
    show_title = _l("Privacy policy version")
    add_title = _l("New policy version (draft)")
    edit_title = _l("Edit draft")
    show_template = "policy/show.html"
    publish_template = "policy/publish.html"
    exclude_route_methods: ClassVar[set[str]] = {"download", "action", "action_post"}
    list_columns: ClassVar[list[str]] = [
        "version",
        "title",
        "state",
        "material",
        "published_at",
        "effective_at",
        "notified_at",
    ]
    show_columns: ClassVar[list[str]] = [
        "version",
        "title",
        "state",
        "material",
        "summary",
        "published_at",
        "effective_at",
        "notified_at",
        "published_by",
    ]
    add_columns: ClassVar[list[str]] = [
        "version",
        "title",
        "summary",
        "material",
        "body",
    ]
    edit_columns = add_columns
    search_columns: ClassVar[list[str]] = [
        "version",
        "title",
        "material",
        "published_at",
        "effective_at",
    ]
    order_columns: ClassVar[list[str]] = ["version", "published_at", "effective_at"]
    base_order = ("version", "desc")
    label_columns = POLICY_LABELS
    description_columns = POLICY_DESCRIPTIONS
    formatters_columns: ClassVar[dict] = {
        "published_at": format_datetime,
        "effective_at": format_datetime,
        "notified_at": format_datetime,
        "material": _yes_no,
        "summary": _preformatted,
    }
    add_form_extra_fields: ClassVar[dict] = {
        "version": IntegerField(
            _l("Version"),
            validators=[Optional(), NumberRange(min=1)],
            description=_l("Leave empty for the next number."),
            render_kw={"class": "form-control"},
        ),
        "body": TextAreaField(
            _l("Text"),
            validators=[DataRequired()],
            description=POLICY_DESCRIPTIONS["body"],
            render_kw={"class": "form-control", "rows": 24},
        ),
    }
    edit_form_extra_fields: ClassVar[dict] = {
        **add_form_extra_fields,
        "version": IntegerField(
            _l("Version"),
            validators=[DataRequired(), NumberRange(min=1)],
            render_kw={"class": "form-control"},
        ),
    }

    # ------------------------------------------------------------------ drafts

    def pre_add(self, item):
        if item.version is None:
            item.version = policy_versions.next_version_number(db.session)
        item.published_at = None
        self._guarded(policy_drafts.check_draft, item)

    def pre_update(self, item):
        self._guarded(policy_drafts.check_draft, item)

    def pre_delete(self, item):
        self._guarded(policy_drafts.check_deletable, item)

    @staticmethod
    def _guarded(check, item):
        with refused_forms_rolled_back():
            check(db.session, item)

    def _item(self, pk) -> PolicyVersion:
        try:
            item = db.session.get(PolicyVersion, int(pk))
        except (TypeError, ValueError):
            item = None
        if item is None:
            abort(404)
        return item

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """Only a draft has an edit form; a published version sends the user back."""
        item = self._item(pk)
        if item.published_at is not None:
            flash(str(policy_drafts.PublishedPolicyError().message), "warning")
            return redirect(url_for(f"{type(self).__name__}.show", pk=item.id))
        return super().edit(pk)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._item(pk)
        widgets = self._show(item.id)
        return self.render_template(
            self.show_template,
            pk=item.id,
            title=self.show_title,
            widgets=widgets,
            related_views=self._related_views,
            item=item,
            body_html=render_policy(item.body),
        )

    # ------------------------------------------------------------------ publishing

    @expose("/publish/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("publish")
    def publish(self, pk):
        item = self._item(pk)
        if item.published_at is not None:
            flash(
                _("Version %(number)s is published already.", number=item.version),
                "warning",
            )
            return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        form = PublishForm(material=item.material, effective_at=policy_publishing.earliest_effective_date())
        status = 200
        if form.validate_on_submit():
            effective_at = form.effective_at.data
            with saving(form) as saved:
                publication = policy_publishing.publish(
                    db.session,
                    item.id,
                    effective_at=effective_at.replace(tzinfo=UTC) if effective_at else None,
                    material=bool(form.material.data),
                    actor_id=getattr(current_user(), "id", None),
                )
            if not saved.ok:
                item = self._item(pk)
                status = 422
            else:
                published = publication.version
                if published.material:
                    flash(
                        _(
                            "Version %(number)s is published; it takes effect on %(date)s.",
                            number=published.version,
                            date=format_datetime(published.effective_at),
                        )
                        + " "
                        + ngettext(
                            "%(num)d user is being told by e-mail.",
                            "%(num)d users are being told by e-mail.",
                            publication.notified,
                        ),
                        "success",
                    )
                else:
                    flash(
                        _(
                            "Version %(number)s is published and not announced.",
                            number=published.version,
                        ),
                        "success",
                    )
                return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        elif form.is_submitted():
            status = 422
        return self.render_template(
            self.publish_template,
            title=_("Publish version %(number)s", number=item.version),
            item=item,
            form=form,
            notice_days=policy_publishing.notice_days(),
        ), status


class PublishForm(FlaskForm):
    material = BooleanField(_l("Material change"), description=POLICY_DESCRIPTIONS["material"])
    effective_at = DateTimeLocalField(
        _l("Takes effect on (UTC)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description=_l("Leave empty for a change that is not material to apply it at once."),
    )
