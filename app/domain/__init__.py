"""Domain rules that need neither HTTP nor Redis: VINs, money, phones, formatting."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule a person broke; ``field`` names the input, ``message`` is translated."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "_schema": [str(self.message)]}
