"""The privacy registry: every mapped model's ``__privacy__`` declaration, in one place.

Export, erasure, restriction, retention and the record of processing all read it; a test
fails when a table has personal-looking columns and no declaration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from flask_appbuilder import Model

from app.domain.declarations import PrivacyDeclaration

# Column names that suggest personal data. Tables with such a column must declare it.
PERSONAL_LOOKING = re.compile(
    r"(^|_)(e?mail|phone|mobile|name|first_name|last_name|address|street|city|postal|zip|ip|ip_address|"
    r"user_agent|message|notes?|details|body|birth|dob|iban|passport|licen[cs]e|password|"
    r"old_value|new_value|to_address|subject_\w+)(_|$)"
)
# Columns whose names look personal but never hold data about a person, and why.
NEUTRAL_COLUMNS = {
    "ab_api_key.name": "the name of an API key",
    "ab_group.name": "the name of a group",
    "ab_permission.name": "the name of a permission",
    "ab_role.name": "the name of a role",
    "ab_view_menu.name": "the name of a screen",
    "car.body_type": "a kind of car body",
    "car_cost.note": "what a cost was for (workshop, transport); staff are told not to name people",
    "dealer.record_visitor_ip": "a setting",
    "dealer.business_name": "the trading name of a business",
    "erasure_ledger.table_name": "the name of a table",
    "rectification_change.table_name": "the name of a table",
    "rectification_change.column_name": "the name of a column",
    "erasure_ledger.subject_key": "a keyed hash, not reversible without the ledger key",
    "sub_processor.name": "the name of a company",
    "policy_version.body": "the text of the privacy policy",
    "breach.subject_categories": "kinds of people affected, never the people",
    "dealer.termination_reason": "why a business ended its contract",
}


@dataclass(frozen=True)
class Entry:
    model: type[Model]
    declaration: PrivacyDeclaration

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def category(self) -> str:
        return self.declaration.category


def mapped_models() -> list[type[Model]]:
    import app.models  # noqa: F401  (every model is mapped once imported)

    return sorted(
        (m.class_ for m in Model.registry.mappers if hasattr(m.class_, "__tablename__")),
        key=lambda cls: cls.__tablename__,
    )


@cache
def entries() -> tuple[Entry, ...]:
    """Every declared table, parents after the rows that point at them (erasure order)."""
    found = [Entry(m, m.__dict__["__privacy__"]) for m in mapped_models() if "__privacy__" in m.__dict__]
    order = {
        "privacy_request": 90,
        "client": 80,
        "dealer": 95,
        "ab_user": 96,
    }
    return tuple(sorted(found, key=lambda e: (order.get(e.table, 50), e.table)))


def entry_for(model_or_table: str | type[Model]) -> Entry | None:
    table = model_or_table if isinstance(model_or_table, str) else model_or_table.__tablename__
    return next((e for e in entries() if e.table == table), None)


def personal_looking_columns(model: type[Model]) -> list[str]:
    table = model.__table__
    return [
        c.name
        for c in table.columns
        if f"{table.name}.{c.name}" not in NEUTRAL_COLUMNS and PERSONAL_LOOKING.search(c.name) and not c.name.endswith("_id")
    ]


def undeclared_personal_columns() -> dict[str, list[str]]:
    """Tables (and columns) that look personal but are not covered by a declaration."""
    declared = {e.table: e.declaration for e in entries()}
    missing: dict[str, list[str]] = {}
    for model in mapped_models():
        declaration = declared.get(model.__tablename__)
        covered = set(declaration.personal) | set(declaration.not_personal) if declaration else set()
        columns = [c for c in personal_looking_columns(model) if c not in covered]
        if columns:
            missing[model.__tablename__] = columns
    return missing
