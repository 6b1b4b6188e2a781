"""The record of processing activities (GDPR Art. 30), generated from the privacy
registry so it always matches what the software stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.privacy.registry import Entry, entries


def record_of_processing(translate: Callable[[Any], str]) -> list[Entry]:
    """Every registered processing, in the order of its title as the reader sees it
    (``translate`` turns a declaration's title into the reader's language)."""
    return sorted(entries(), key=lambda entry: translate(entry.declaration.title))
