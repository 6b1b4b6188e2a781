"""The privacy declaration a model carries next to its columns (``__privacy__``).

Plain data only: ``app.privacy.registry`` reads these declarations and drives export,
erasure, restriction, retention and the record of processing from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How a personal column is erased.
DELETE = "delete"  # the whole row goes
NULL = "null"  # the column is set to NULL
PLACEHOLDER = "placeholder"  # the column gets a neutral placeholder text
KEEP = "keep"  # kept (with a reason in ``keep_reason``)

# How the rows of a data subject are found.
BY_CONTACT = "contact"  # email/phone columns equal the subject's identifiers
BY_CLIENT = "client"  # a foreign key to one of the subject's clients
BY_REQUEST = "request"  # a foreign key to one of the subject's privacy requests
BY_USER = "user"  # a foreign key to the user account(s) with the subject's e-mail
BY_RECORD = "record"  # (table, row id) of one of the subject's rows in another table (history)


@dataclass(frozen=True)
class PrivacyDeclaration:
    """What a table holds about people, why, and how the privacy machinery treats it.

    ``personal`` maps each personal column to how it is erased. ``find`` lists the ways
    a subject's rows are found (``BY_CONTACT`` uses ``email_column``/``phone_column``,
    ``BY_CLIENT`` uses ``client_column``, ``BY_REQUEST`` uses ``request_column``, ``BY_USER`` uses ``user_column``, ``BY_RECORD``
    uses ``record_columns``: the table-name and row-id columns naming a row of another table);
    ``scope_column`` limits a dealer-scoped request to that dealer's rows (None: the
    relation used to find the rows already carries the scope); ``platform_only`` rows
    (accounts, dealer profiles) belong to whole-platform requests only. ``export_columns`` go into the portability
    package, in that order; other people's data never does. ``business_record_years``
    keeps rows younger than that many years (dated by ``record_date_column``) restricted
    instead of erasing them. ``not_personal`` names columns that look personal and are
    not, with the reason.
    """

    category: str
    title: Any
    purpose: Any
    legal_basis: Any
    recipients: Any
    retention: Any
    source: Any
    personal: dict[str, str]
    find: tuple[str, ...]
    export_columns: tuple[str, ...]
    scope_column: str | None = "dealer_id"
    platform_only: bool = False
    email_column: str | None = None
    phone_column: str | None = None
    client_column: str | None = None
    request_column: str | None = None
    user_column: str | None = None
    record_columns: tuple[str, str] | None = None
    business_record_years: int | None = None
    record_date_column: str | None = None
    keep_reason: Any = None
    not_personal: dict[str, str] = field(default_factory=dict)
    # The columns a dealer's account export takes from this table (None: every column but
    # secrets); whoever receives the account export must be named in ``recipients``.
    account_export_columns: tuple[str, ...] | None = None

    @property
    def deletes_rows(self) -> bool:
        return DELETE in self.personal.values()
