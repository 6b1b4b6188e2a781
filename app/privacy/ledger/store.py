"""Where the deletion ledger lives: its own database, never the one a backup restores.

By default one SQLite file, ``deletion-ledger.sqlite`` under ``DATA_DIR``
(``FORECOURT_DATA_DIR``), written with ``synchronous=FULL`` so that every committed batch
is on disk; in production ``DELETION_LEDGER_URL`` names a separate database. The store is
append-only: entries are added in one transaction per batch and only ever removed by
``expire`` once they are older than the oldest backup (``ERASURE_LEDGER_RETENTION_DAYS``).

An entry holds no personal data: the subject and the row's natural identity are keyed
hashes (``PRIVACY_LEDGER_KEY``), the primary key only says where to look.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock

from flask import current_app
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text, create_engine, delete, event, func, insert, select
from sqlalchemy.engine import make_url

FILE_NAME = "deletion-ledger.sqlite"
DELETED, ANONYMISED, KEPT = "delete", "anonymise", "keep"
ACTIONS = (DELETED, ANONYMISED, KEPT)

metadata = MetaData()
ledger_table = Table(
    "deletion_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False, index=True),  # UTC, ISO 8601 with microseconds: sorts as text
    Column("action", String(20), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("row_pk", String(64), nullable=False),  # where to look, never enough on its own
    Column("row_created", String(32)),  # the row's creation time (tables that have one)
    Column("identity", String(64), nullable=False),  # keyed hash of table, key, creation time, natural identifiers
    Column("subject", String(64)),  # keyed hash of the person or account the deletion was for
    Column("reason", String(40), nullable=False, default=""),  # erasure, account_deleted, sweep:inquiries, ...
    Column("detail", Text),  # JSON, no personal data (a dealer's lifecycle dates)
)


@dataclass(frozen=True)
class LedgerEntry:
    at: str
    action: str
    table_name: str
    row_pk: str
    identity: str
    row_created: str | None = None
    subject: str | None = None
    reason: str = ""
    detail: str | None = None


_engines: dict[str, Engine] = {}
_lock = Lock()


def ledger_url() -> str:
    url = current_app.config.get("DELETION_LEDGER_URL")
    if url:
        return str(url)
    return f"sqlite:///{Path(current_app.config['DATA_DIR']) / FILE_NAME}"


def engine() -> Engine:
    """The store's engine (one per URL and process), its table created on first use."""
    url = ledger_url()
    with _lock:
        found = _engines.get(url)
        if found is None:
            found = _engines[url] = _connect(url)
    return found


def _connect(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        created = create_engine(url, connect_args={"timeout": 30})
        event.listen(created, "connect", _durable_sqlite)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        created = create_engine(url, pool_pre_ping=True)
    metadata.create_all(created, checkfirst=True)
    return created


def _durable_sqlite(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")  # fsync on every commit
    cursor.close()


def now_text(value: datetime | None = None) -> str:
    return time_text(value or datetime.now(UTC))


def time_text(value: datetime) -> str:
    """UTC with microseconds; a naive value (SQLite, FAB's own columns) is taken as UTC."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def append(entries: Sequence[LedgerEntry]) -> None:
    """Add the entries in one transaction (committed, and with SQLite fsynced, on return)."""
    if not entries:
        return
    with engine().begin() as connection:
        connection.execute(insert(ledger_table), [asdict(e) for e in entries])


def read(since: datetime | None = None, batch: int = 500) -> Iterator[list[LedgerEntry]]:
    """Entries in the order they were written (from ``since`` on), a batch at a time."""
    after = 0
    fields = [c for c in ledger_table.c if c.name != "id"]
    while True:
        query = select(ledger_table.c.id, *fields).where(ledger_table.c.id > after)
        if since is not None:
            query = query.where(ledger_table.c.at >= time_text(since))
        with engine().connect() as connection:
            found = connection.execute(query.order_by(ledger_table.c.id).limit(batch)).all()
        if not found:
            return
        after = found[-1][0]
        yield [LedgerEntry(**{c.name: row[i + 1] for i, c in enumerate(fields)}) for row in found]


def count(before: datetime | None = None) -> int:
    query = select(func.count()).select_from(ledger_table)
    if before is not None:
        query = query.where(ledger_table.c.at < time_text(before))
    with engine().connect() as connection:
        return connection.scalar(query) or 0


def expire(before: datetime, dry_run: bool = False) -> int:
    """Remove the entries written before ``before`` (no backup is that old any more)."""
    if dry_run:
        return count(before)
    with engine().begin() as connection:
        return connection.execute(delete(ledger_table).where(ledger_table.c.at < time_text(before))).rowcount or 0
