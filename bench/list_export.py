"""Benchmark: export time of a 100,000-row car list (CSV and XLSX, human- and
machine-readable), through the same route the list's Export button uses.

Seeds one dealer with N cars in a temporary SQLite database (bulk insert, no ORM rules)
and downloads ``/carmodelview/export_list`` answered at once (the job threshold raised above N).
Prints figures; asserts nothing. Run with `make bench`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from app import create_app
from config import DEMO_PASSWORD, TestingConfig

ROWS = 100_000


def _seed_cars(db, dealer_id: int, count: int) -> None:
    from app.models import Car

    now = datetime.now(UTC)
    makes = [("Volkswagen", "Golf"), ("Audi", "A4"), ("Skoda", "Octavia"), ("BMW", "320d")]
    for start in range(0, count, 10_000):
        rows = [
            {
                "dealer_id": dealer_id,
                "stock_number": f"B{i:07d}",
                "vin": f"WVWZZZ1JZ3W{i:06d}",
                "legacy_chassis_number": False,
                "make": makes[i % 4][0],
                "model": makes[i % 4][1],
                "year": 2010 + i % 15,
                "mileage": (i * 37) % 250_000,
                "mileage_unit": "km",
                "condition": "used",
                "status": "available",
                "published": bool(i % 2),
                "acquired_on": date(2026, 1, 1) + timedelta(days=i % 300),
                "asking_price_minor": 500_000 + (i * 113) % 4_000_000,
                "currency": "EUR",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(start + 10_000, count))
        ]
        db.session.execute(Car.__table__.insert(), rows)
    db.session.commit()


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="forecourt-bench-")
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            "EMBEDDED_REDIS_PATH": f"{tmp}/redis.db",
            "DATA_DIR": f"{tmp}/data",
            "WTF_CSRF_ENABLED": False,
            "LIST_EXPORT_INLINE_ROWS": ROWS * 2,
        },
    )
    runner = app.test_cli_runner()
    runner.invoke(args=["forecourt", "init"])
    runner.invoke(args=["forecourt", "demo"])
    try:
        with app.app_context():
            from sqlalchemy import select

            from app.extensions import db
            from app.models import Dealer

            dealer_id = db.session.scalar(select(Dealer.id).where(Dealer.slug == "north-motors"))
            _seed_cars(db, dealer_id, ROWS)
        client = app.test_client()
        client.post("/login/", data={"username": "north-motors-admin", "password": DEMO_PASSWORD})
        print(f"list export of the car list, {ROWS:,d} rows (and the demo cars):")
        for fmt in ("csv", "xlsx"):
            for mode in ("machine", "human"):
                start = time.perf_counter()
                response = client.get(f"/carmodelview/export_list?format={fmt}&mode={mode}")
                body = response.get_data()  # a CSV streams: the time includes every row
                seconds = time.perf_counter() - start
                print(f"  {fmt:4s} {mode:7s}  {seconds:6.2f} s   {len(body) / 1_048_576:6.1f} MiB   HTTP {response.status_code}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
