"""Benchmark: how long the preview of a 10,000-row import takes (read the file, check
every row, match against the dealer's stock, store the rows), for a CSV and an XLSX
file, half the rows updating cars the dealer already has. Prints figures; asserts
nothing. Run with `make bench`.
"""

from __future__ import annotations

import shutil
import tempfile
import time

from app import create_app
from config import TestingConfig

ROWS = 10_000
HEADERS = ["Stock no.", "VIN", "Make", "Model", "Year", "Mileage", "Fuel", "Asking price"]


def _rows(n: int) -> list[list[object]]:
    from app.domain.vin import build_vin

    return [
        [f"BENCH-{i:05d}", build_vin("WVW", "ZZZAU", 2019, "W", 500_000 + i), "Volkswagen", "Golf", "2019", "45.000", "Diesel", "12.500,00"]
        for i in range(n)
    ]


def _seed_existing(db, dealer_id: int, rows: list[list[object]]) -> None:
    """Every other row of the file already in stock (inserted in bulk: no ORM rules)."""
    from datetime import UTC, date, datetime

    from app.models import Car

    now = datetime.now(UTC)
    cars = [
        {
            "dealer_id": dealer_id,
            "stock_number": row[0],
            "vin": row[1],
            "legacy_chassis_number": False,
            "make": "Volkswagen",
            "model": "Golf",
            "year": 2019,
            "mileage": 40_000,
            "mileage_unit": "km",
            "condition": "used",
            "status": "available",
            "published": False,
            "acquired_on": date.today(),
            "asking_price_minor": 1_300_000,
            "currency": "EUR",
            "created_at": now,
            "updated_at": now,
        }
        for row in rows[::2]
    ]
    db.session.execute(Car.__table__.insert(), cars)
    db.session.commit()


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="forecourt-bench-")
    app = create_app(
        TestingConfig,
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "EMBEDDED_REDIS_PATH": f"{tmp}/redis.db", "DATA_DIR": f"{tmp}/data"},
    )
    runner = app.test_cli_runner()
    runner.invoke(args=["forecourt", "init"])
    runner.invoke(args=["forecourt", "demo"])
    try:
        with app.app_context(), app.test_request_context():
            from sqlalchemy import select

            from app.extensions import db
            from app.models import Dealer
            from app.workbench import imports
            from app.workbench.spreadsheets import csv_bytes, xlsx_bytes

            dealer_id = db.session.scalar(select(Dealer.id).where(Dealer.slug == "north-motors"))
            rows = _rows(ROWS)
            _seed_existing(db, dealer_id, rows)
            print(f"import preview of {ROWS:,d} cars (half of them updates), language de:")
            for name, data in (("CSV", csv_bytes(HEADERS, rows)), ("XLSX", xlsx_bytes(HEADERS, rows))):
                start = time.perf_counter()
                batch = imports.upload(db.session, dealer_id, None, "car", data, "de")
                db.session.commit()
                seconds = time.perf_counter() - start
                counts = f"{batch.to_create:,d} new, {batch.to_update:,d} updates, {batch.with_errors:,d} errors"
                print(f"  {name:<5} {len(data) / 1_048_576:5.2f} MiB   preview {seconds:6.2f} s   ({counts})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
