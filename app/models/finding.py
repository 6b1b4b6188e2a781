"""The quick search of a list as one SQL condition (``app.domain.finding`` parses it).

Columns are named as on the list (``vin``, ``buyer.last_name``): a dotted name matches
through a many-to-one relation, as an ``EXISTS`` that skips restricted rows (GDPR Art. 18)
and rows of another dealer, so a search never finds a row through a hidden one.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from app.domain.finding import EMAIL, NUMBER, PHONE, TEXT, VIN, QuickQuery, Term


def quick_search_condition(model, columns: Mapping[str, str], query: QuickQuery) -> ColumnElement | None:
    """Rows where every term matches at least one of ``columns`` (name → kind); None: no search."""
    if not query.terms:
        return None
    every_term = []
    for term in query.terms:
        matches = [m for name, kind in columns.items() if (m := column_match(model, name, kind, term)) is not None]
        if not matches:
            return false()
        every_term.append(or_(*matches))
    return and_(*every_term)


def column_match(model, name: str, kind: str, term: Term) -> ColumnElement | None:
    if "." in name:
        relation_name, _, leaf = name.partition(".")
        relation = getattr(model, relation_name)
        target = relation.property.mapper.class_
        inner = column_match(target, leaf, kind, term)
        if inner is None:
            return None
        if hasattr(target, "restricted_at"):
            inner = and_(inner, target.restricted_at.is_(None))
        if hasattr(target, "dealer_id") and hasattr(model, "dealer_id"):
            inner = and_(inner, target.dealer_id == model.dealer_id)
        return relation.has(inner)
    column = getattr(model, name)
    if kind == TEXT:
        return column.icontains(term.text, autoescape=True)
    if kind == EMAIL:
        return column.contains(term.text, autoescape=True)
    if kind == VIN:
        return column.contains(term.vin, autoescape=True) if term.vin else None
    if kind == PHONE:
        return column.contains(term.digits, autoescape=True) if term.digits else None
    if kind == NUMBER:
        return column == term.number if term.number is not None else None
    raise ValueError(f"unknown quick-search kind {kind!r}")
