"""Bulk edits on the web: the "Bulk edit" action of a list's selection, its page (choose the
change → preview of every row that changes, before and after → apply), and
``POST /api/v1/<resource>/bulk``. Thin: the rules are ``app.workbench.bulk``.

The selection is re-read with the user's dealer and the restriction filter: an id of
another dealer (or a restricted row) answers 404 and changes nothing. Applying is one
transaction; a preview is rolled back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain import DomainError
from app.domain.enum_labels import enum_label
from app.extensions import db
from app.models.inquiries import InquiryStatus
from app.models.users import DealerUser
from app.signed_in import current_user
from app.tenancy import current_dealer_id
from app.usage_tracking import log_feature_use
from app.workbench.bulk import (
    CAR_STATUSES,
    CHANGE_LABELS,
    CHANGES,
    NotVisible,
    Outcome,
    load_selection,
    parse_change,
    parse_ids,
    run_bulk,
)


def typed_number(text: Any) -> Any:
    """A number as a person types it in their language ("-5", "-1.250,50" in de)."""
    raw = str(text or "").strip()
    try:
        return parse_decimal(raw, locale=str(get_locale() or "en"), strict=False)
    except NumberFormatError:
        try:
            return Decimal(raw)
        except InvalidOperation:
            return raw  # parse_change says what is wrong with it


def bulk_edit(kind: str, ids: list[Any], change: Any, value: Any, apply: bool) -> Outcome:
    """Check, load, change; commit when ``apply``, else roll back. ``DomainError`` and
    ``NotVisible`` leave the session rolled back."""
    try:
        selection = parse_ids(ids)
        checked = parse_change(kind, change, value)
        rows = load_selection(db.session, kind, selection, current_dealer_id())
        outcome = run_bulk(db.session, kind, rows, checked)
        if apply:
            db.session.info["acting_user_id"] = getattr(current_user(), "id", None)
            db.session.commit()
            log_feature_use(f"bulk_edit:{kind}:{checked.kind}")
        else:
            db.session.rollback()
        return outcome
    except Exception:
        db.session.rollback()
        raise


def assignable_users() -> list[Any]:
    dealer_id = current_dealer_id()
    if dealer_id is None:
        return []
    query = select(DealerUser).where(DealerUser.dealer_id == dealer_id, DealerUser.active.is_(True))
    return list(db.session.scalars(query.order_by(DealerUser.first_name, DealerUser.last_name)))


class BulkEditViewMixin:
    """A list view whose selection can be bulk edited (``bulk_kind``: "car" or "inquiry")."""

    bulk_kind = "car"

    @action("bulk_edit", _l("Bulk edit"), None, "fa-pencil-square-o", single=False)
    def bulk_edit_selection(self, items):
        rows = items if isinstance(items, list) else [items]
        return redirect(url_for(f"{self.endpoint}.bulk", ids=[row.id for row in rows]))

    @expose("/bulk", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def bulk(self):
        form = request.form if request.method == "POST" else request.args
        ids = form.getlist("ids")
        chosen = {
            "change": form.get("change", ""),
            "status": form.get("status", ""),
            "amount": form.get("amount", ""),
            "user": form.get("user", ""),
        }
        outcome, error = None, None
        if request.method == "POST":
            value = self._value_of(chosen)
            # Apply only what the preview showed: a change edited after it is previewed again.
            apply = "apply" in request.form and form.get("previewed") == self._signature(chosen)
            try:
                outcome = bulk_edit(self.bulk_kind, ids, chosen["change"], value, apply=apply)
            except NotVisible:
                abort(404)
            except DomainError as exc:
                error = str(exc.message)
            else:
                if apply:
                    flash(ngettext("%(num)d row changed.", "%(num)d rows changed.", len({r.id for r in outcome.changed})), "success")
                    for label, reason in outcome.refused:
                        flash(f"{label}: {reason}", "warning")
                    return redirect(url_for(f"{self.endpoint}.list"))
        else:
            try:
                load_selection(db.session, self.bulk_kind, parse_ids(ids), current_dealer_id())
            except NotVisible:
                abort(404)
            except DomainError as exc:
                error = str(exc.message)
        return self.render_template(
            "forecourt/bulk_edit.html",
            title=_l("Bulk edit"),
            ids=ids,
            chosen=chosen,
            changes=[(kind, CHANGE_LABELS[kind]) for kind in CHANGES[self.bulk_kind]],
            statuses=[(s.value, enum_label(s)) for s in (CAR_STATUSES if self.bulk_kind == "car" else InquiryStatus)],
            users=assignable_users() if self.bulk_kind == "inquiry" else [],
            outcome=outcome,
            error=error,
            list_url=url_for(f"{self.endpoint}.list"),
            previewed=self._signature(chosen) if outcome is not None else "",
            field_labels={
                name: str(self.label_columns.get(name, name)) for name in ("status", "published", "asking_price", "assigned_user")
            },
        )

    @classmethod
    def _signature(cls, chosen: dict[str, str]) -> str:
        return f"{chosen['change']}:{cls._value_of(chosen)}"

    @staticmethod
    def _value_of(chosen: dict[str, str]) -> Any:
        change = chosen["change"]
        if change == "status":
            return chosen["status"]
        if change == "assign":
            return chosen["user"]
        if change in ("price_amount", "price_percent"):
            return typed_number(chosen["amount"])
        return None


class BulkEditApiMixin:
    """``POST /api/v1/<resource>/bulk``: ``{"ids": [...], "change": {"kind": ..., "value": ...},
    "dry_run": true}``."""

    bulk_kind = "car"

    @expose("/bulk", methods=["POST"])
    @protect()
    @safe
    @permission_name("put")
    def bulk(self):
        """Change the selected rows at once (or preview the change with ``dry_run``).
        ---
        post:
          summary: Bulk edit the selected rows
          description: >-
            Cars: ``status`` (acquired, in_preparation, available, reserved), ``publish``,
            ``unpublish``, ``price_amount`` (major units, e.g. -500), ``price_percent``
            (e.g. -5), ``archive``. Inquiries: ``status``, ``assign`` (a user id of the
            dealer). One transaction; a price below zero or an id out of reach changes
            nothing. Price changes are written to the price history.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids, change]
                  properties:
                    ids: {type: array, items: {type: integer}, maxItems: 1000}
                    change:
                      type: object
                      required: [kind]
                      properties:
                        kind: {type: string}
                        value: {oneOf: [{type: string}, {type: number}, {type: integer}]}
                    dry_run: {type: boolean, default: false}
          responses:
            200:
              description: What changed (or would change, with dry_run)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      applied: {type: boolean}
                      changed: {type: integer}
                      unchanged: {type: integer}
                      rows:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            label: {type: string}
                            field: {type: string}
                            before: {type: string}
                            after: {type: string}
                      refused:
                        type: array
                        items: {type: object, properties: {row: {type: string}, reason: {type: string}}}
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list) or not isinstance(body.get("change"), dict):
            return self.response_400(message=str(_l("Send ids (a list) and change (an object with kind and value).")))
        change = body["change"]
        dry_run = bool(body.get("dry_run", False))
        try:
            outcome = bulk_edit(self.bulk_kind, body["ids"], change.get("kind"), change.get("value"), apply=not dry_run)
        except NotVisible:
            return self.response_404()
        except DomainError as exc:
            return self.response_422(message=exc.as_dict())
        return self.response(200, applied=not dry_run, **outcome.as_dict())
