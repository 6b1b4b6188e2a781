"""Benchmark: peak Python memory and time of an access export for a small and a large subject.

Seeds one person with N inquiries in a temporary SQLite database and runs
``app.privacy.requests.export.run_export`` under ``tracemalloc``. Memory should stay about the same
whatever N is (rows are read in batches and streamed into the ZIP). Prints figures;
asserts nothing. Run with `make bench`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from app import create_app
from config import TestingConfig

SIZES = (2_000, 20_000)


def _seed_subject(db, dealer_id: int, email: str, inquiries: int) -> None:
    """One client and ``inquiries`` inquiries of theirs, inserted in bulk (no ORM rules)."""
    from app.models import Client, Inquiry

    now = datetime.now(UTC)
    client = Client(dealer_id=dealer_id, first_name="Bench", last_name="Person", email=email, city="Berlin", country="DE")
    db.session.add(client)
    db.session.commit()
    rows = [
        {
            "dealer_id": dealer_id,
            "client_id": client.id if i % 2 else None,
            "name": "Bench Person",
            "email": email,
            "message": f"Is the car still available? Question number {i}, with some more words to make it realistic.",
            "source": "website",
            "status": "new",
            "received_at": now - timedelta(minutes=i),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(inquiries)
    ]
    for start in range(0, len(rows), 5_000):
        db.session.execute(Inquiry.__table__.insert(), rows[start : start + 5_000])
    db.session.commit()


def _new_request(db, dealer_id: int, email: str) -> int:
    from app.models import RequestChannel, RequestType
    from app.privacy.requests import intake, processing

    request = intake.file_request(
        db.session, request_type=RequestType.access, email=email, dealer_id=dealer_id, channel=RequestChannel.officer
    )
    processing.request_processing(db.session, request, actor_id=None)
    db.session.commit()
    return request.id


def _export_once(app, dealer_id: int, inquiries: int) -> tuple[float, float, int]:
    """Seconds (untraced run), peak MiB (a second run under tracemalloc) and ZIP bytes."""
    from app.extensions import db
    from app.models import PrivacyRequest
    from app.privacy.requests.export import run_export
    from app.privacy.requests.export_files import export_file

    email = f"bench-{inquiries}-{time.time_ns()}@example.org"
    with app.app_context():
        _seed_subject(db, dealer_id, email, inquiries)
        timed, traced = _new_request(db, dealer_id, email), _new_request(db, dealer_id, email)
    with app.app_context():
        start = time.perf_counter()
        run_export(timed)
        seconds = time.perf_counter() - start
    with app.app_context():
        tracemalloc.start()
        run_export(traced)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = os.path.getsize(export_file(db.session.get(PrivacyRequest, traced)))
    return seconds, peak / 1_048_576, size


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="forecourt-bench-")
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            "EMBEDDED_REDIS_PATH": f"{tmp}/redis.db",
            "DATA_DIR": f"{tmp}/data",
        },
    )
    runner = app.test_cli_runner()
    runner.invoke(args=["forecourt", "init"])
    runner.invoke(args=["forecourt", "demo"])
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Dealer

        dealer_id = db.session.scalar(select(Dealer.id).where(Dealer.slug == "north-motors"))
    batch = app.config["PRIVACY_BATCH_SIZE"]
    print(f"access export, batch size {batch}: peak traced Python memory stays flat as rows grow")
    try:
        _export_once(app, dealer_id, 10)  # warm up: templates, mappers, statement caches
        for inquiries in SIZES:
            seconds, peak_mib, size = _export_once(app, dealer_id, inquiries)
            print(f"{inquiries:>7,d} inquiries   {seconds:6.2f} s   peak {peak_mib:6.1f} MiB   ZIP {size / 1_048_576:6.2f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
