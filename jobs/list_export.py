"""RQ entry point for big list exports: the list's arguments in, a file in the store out."""

from __future__ import annotations

from app.list_exporting import write_export_file


def export_list(endpoint: str, args: list, user_id: int, fmt: str, mode: str, locale: str, token: str) -> str:
    """Write the export of list ``endpoint`` as ``user_id`` sees it (idempotent: same token,
    same file)."""
    return write_export_file(endpoint, [tuple(pair) for pair in args], user_id, fmt, mode, locale, token)
