"""Car photos at the end of things: in the account package (files included, a restricted
car's left out), gone with their files on day 30 and when the business records are erased;
no file is left behind."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from PIL import Image
from sqlalchemy import func, select

from app.models import Car, CarPhoto, PrivacyRequest
from app.models.base import utcnow
from app.privacy.lifecycle import account_deletion, account_export, records, termination
from app.privacy.requests.export_files import export_file
from app.workbench import photos as service
from tests.factories import make_account, make_car
from tests.photo_support import CAMERA, jpeg_with_gps
from tests.queue_support import run_queue


def _photo_files(app, dealer_id: int) -> list[Path]:
    folder = Path(app.config["DATA_DIR"]) / "photos" / str(dealer_id)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _with_photos(app, db):
    """An account whose car has two photos, plus a restricted car with one."""
    account = make_account(db)
    with app.test_request_context():
        car = db.session.get(Car, account.car_id)
        service.add_photos(db.session, car, [service.Upload("a.jpg", jpeg_with_gps()), service.Upload("b.jpg", jpeg_with_gps())])
        restricted = make_car(db, account.dealer_id)
        service.add_photos(db.session, restricted, [service.Upload("r.jpg", jpeg_with_gps())])
        db.session.commit()
        restricted.restricted_at = utcnow()
        db.session.commit()
    return account, restricted.id


def _count(db, dealer_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CarPhoto).where(CarPhoto.dealer_id == dealer_id))


def test_the_account_package_holds_the_photo_files_but_not_a_restricted_cars(app, db):
    account, restricted_id = _with_photos(app, db)
    request = account_export.request_account_export(db.session, account.dealer_id, account.admin_id)
    db.session.commit()
    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    archive = zipfile.ZipFile(io.BytesIO(export_file(request).read_bytes()))
    photos = sorted(name for name in archive.namelist() if name.startswith("photos/"))
    ids = [p.id for p in db.session.scalars(select(CarPhoto).where(CarPhoto.car_id == account.car_id).order_by(CarPhoto.position))]
    assert photos == sorted(f"photos/car-{account.car_id}/{photo_id}.jpg" for photo_id in ids)
    for name in photos:
        data = archive.read(name)
        assert Image.open(io.BytesIO(data)).format == "JPEG" and CAMERA.encode() not in data
    manifest = {entry["name"]: entry for entry in json.loads(archive.read("manifest.json"))["files"]}
    for name in photos:
        assert manifest[name]["sha256"] == hashlib.sha256(archive.read(name)).hexdigest()
    rows = json.loads(archive.read("car_photo.json"))
    assert {row["id"] for row in rows} == set(ids)
    assert all(row["car_id"] != restricted_id for row in rows)


def test_day_30_deletes_the_photos_and_their_files(app, db):
    account, _ = _with_photos(app, db)
    assert len(_photo_files(app, account.dealer_id)) == 6
    t0 = utcnow()
    termination.terminate_dealer(db.session, account.dealer_id, account.admin_id, None, now=t0)
    db.session.commit()
    day30 = datetime.combine(t0.date() + timedelta(days=30), time.min, tzinfo=UTC)
    dry = account_deletion.delete_account(db.session, account.dealer_id, day30, dry_run=True)
    db.session.commit()
    assert dry["car_photo"] == {"deleted": 3}
    assert len(_photo_files(app, account.dealer_id)) == 6  # a dry run deletes nothing
    applied = account_deletion.delete_account(db.session, account.dealer_id, day30)
    db.session.commit()
    assert applied["car_photo"] == {"deleted": 3}
    assert _count(db, account.dealer_id) == 0
    assert _photo_files(app, account.dealer_id) == []


def test_erasing_the_business_records_leaves_no_photo_file(app, db):
    account, _ = _with_photos(app, db)
    t0 = utcnow()
    termination.terminate_dealer(db.session, account.dealer_id, account.admin_id, None, now=t0)
    db.session.commit()
    db.session.expire_all()
    from app.models import Dealer

    due = db.session.get(Dealer, account.dealer_id).records_erasure_due_at
    records.erase_business_records(db.session, account.dealer_id, due + relativedelta(seconds=1))
    db.session.commit()
    assert _count(db, account.dealer_id) == 0
    assert _photo_files(app, account.dealer_id) == []


def test_a_failed_deletion_keeps_the_files(app, db):
    account, _ = _with_photos(app, db)
    from app.privacy.requests.erasure_rows import delete_rows

    before = _photo_files(app, account.dealer_id)
    delete_rows(db.session, CarPhoto, CarPhoto.dealer_id == account.dealer_id, record=False)
    db.session.rollback()
    assert _photo_files(app, account.dealer_id) == before


def test_the_daily_sweep_removes_photo_files_no_row_names_after_a_day(app, db):
    import os

    from app.privacy.lifecycle.sweeps import sweep_expired_exports

    account, _ = _with_photos(app, db)
    kept = _photo_files(app, account.dealer_id)
    folder = Path(app.config["DATA_DIR"]) / "photos" / str(account.dealer_id) / "999999"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "killed-large.jpg", folder / "uploading-large.jpg"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    now = utcnow()
    two_days_ago = now.timestamp() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    for path in kept:
        os.utime(path, (two_days_ago, two_days_ago))
    dry = sweep_expired_exports(db.session, now, dry_run=True)
    assert dry["car_photo_file"] == {"orphan_deleted": 1} and old.exists()
    sweep_expired_exports(db.session, now, dry_run=False)
    assert not old.exists() and fresh.exists()
    assert all(path.exists() for path in kept)
    fresh.unlink()
