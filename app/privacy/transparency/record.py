"""The record of processing activities (GDPR Art. 30), generated from the privacy
registry so it always matches what the software stores, and from the sub-processor
list: the processors that receive the data and the transfers outside the EEA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.models import SubProcessor, SubProcessorCategory
from app.privacy.registry import Entry, entries
from app.privacy.transparency.subprocessors import by_category, in_service, transfers


@dataclass(frozen=True)
class Processors:
    """The sub-processors in service, by category, and those that are transfers."""

    by_category: list[tuple[SubProcessorCategory, list[SubProcessor]]]
    transfers: list[SubProcessor]


def record_of_processing(translate: Callable[[Any], str]) -> list[Entry]:
    """Every registered processing, in the order of its title as the reader sees it
    (``translate`` turns a declaration's title into the reader's language)."""
    return sorted(entries(), key=lambda entry: translate(entry.declaration.title))


def processors(session: Session, today: date | None = None) -> Processors:
    """The recipients (Art. 30(1)(d)) and international transfers (Art. 30(1)(e)) of the record."""
    items = in_service(session, today)
    return Processors(by_category(items), transfers(items))
