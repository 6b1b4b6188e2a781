"""Car photos: checked by content, stored without metadata, ordered, captioned, deleted with
their files; the REST routes and the car page's endpoints, tenant-scoped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.domain import DomainError
from app.domain.photos import PhotoLimits, encode_photo
from app.models import Car, CarPhoto
from app.workbench import photos as service
from tests.factories import make_car
from tests.photo_support import CAMERA, image_bytes, jpeg_with_gps, png_50_megapixels, renamed_exe

LIMITS = PhotoLimits(max_bytes=15_000_000, max_pixels=40_000_000)


def _stored(app, relative: str) -> Path:
    return Path(app.config["DATA_DIR"]) / relative


def _car_files(app, car_id: int, dealer_id: int) -> list[Path]:
    folder = Path(app.config["DATA_DIR"]) / "photos" / str(dealer_id) / str(car_id)
    return sorted(folder.glob("*")) if folder.is_dir() else []


# -- the image rules (app.domain.photos) ---------------------------------------------------


def test_a_stored_photo_keeps_no_exif_gps_camera_or_comment():
    variants = encode_photo(jpeg_with_gps(), LIMITS, "lot.jpg")
    for variant in variants.values():
        image = Image.open(io.BytesIO(variant.data))
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info and "comment" not in image.info and "icc_profile" not in image.info
        assert CAMERA.encode() not in variant.data
    assert (variants["large"].width, variants["large"].height) == (1200, 900)
    assert max(variants["thumb"].width, variants["thumb"].height) == 320


def test_large_photos_are_scaled_down_to_1600_pixels():
    variants = encode_photo(image_bytes("PNG", (4000, 2000)), LIMITS, "wide.png")
    assert (variants["large"].width, variants["large"].height) == (1600, 800)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_and_stored_as_jpeg(fmt):
    variants = encode_photo(image_bytes(fmt), LIMITS, f"car.{fmt.lower()}")
    assert Image.open(io.BytesIO(variants["large"].data)).format == "JPEG"


def test_a_transparent_png_is_flattened_on_white():
    variants = encode_photo(image_bytes("PNG", (100, 100), mode="RGBA"), LIMITS, "clear.png")
    assert Image.open(io.BytesIO(variants["large"].data)).getpixel((50, 50)) >= (250, 250, 250)


def test_a_renamed_program_is_not_an_image(app):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        encode_photo(renamed_exe(), LIMITS, "car.jpg")
    assert str(refused.value.message) == "car.jpg is not a JPEG, PNG or WebP image."


def test_a_gif_is_refused_whatever_its_name(app):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        encode_photo(image_bytes("GIF"), LIMITS, "car.png")
    assert "is not a JPEG, PNG or WebP image" in str(refused.value.message)


def test_a_50_megapixel_png_is_refused_before_decoding(app):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        encode_photo(png_50_megapixels(), LIMITS, "huge.png")
    assert str(refused.value.message) == "huge.png has 50 megapixels; at most 40 are accepted."


def test_a_file_over_the_size_limit_is_refused(app):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        encode_photo(jpeg_with_gps(), PhotoLimits(max_bytes=1000, max_pixels=40_000_000), "big.jpg")
    assert str(refused.value.message) == "big.jpg is larger than 0.001 MB."


def test_a_truncated_jpeg_is_refused(app):
    with app.test_request_context(), pytest.raises(DomainError):
        encode_photo(jpeg_with_gps()[:400], LIMITS, "cut.jpg")


# -- the service (app.workbench.photos) ------------------------------------------------------


def test_photos_are_added_in_order_and_the_first_is_main(app, db, dealer_ids):
    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"])
        added = service.add_photos(db.session, car, [service.Upload(f"{i}.jpg", jpeg_with_gps()) for i in range(3)])
        db.session.commit()
        assert [p.position for p in added] == [0, 1, 2]
        assert [p.is_primary for p in added] == [True, False, False]
        for photo in added:
            assert _stored(app, photo.file_path).is_file() and _stored(app, photo.thumb_path).is_file()
        more = service.add_photos(db.session, car, [service.Upload("4.jpg", jpeg_with_gps())])
        db.session.commit()
        assert (more[0].position, more[0].is_primary) == (3, False)


def test_one_bad_file_refuses_the_whole_upload_and_writes_nothing(app, db, dealer_ids):
    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"])
        db.session.commit()
        uploads = [service.Upload("good.jpg", jpeg_with_gps()), service.Upload("setup.jpg", renamed_exe())]
        with pytest.raises(service.PhotosRejected) as refused:
            service.add_photos(db.session, car, uploads)
        db.session.rollback()
        assert refused.value.messages == ["setup.jpg is not a JPEG, PNG or WebP image."]
        assert db.session.scalars(select(CarPhoto).where(CarPhoto.car_id == car.id)).all() == []
        assert _car_files(app, car.id, car.dealer_id) == []


def test_files_written_for_a_transaction_that_rolls_back_are_removed(app, db, dealer_ids):
    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"])
        db.session.commit()
        service.add_photos(db.session, car, [service.Upload("a.jpg", jpeg_with_gps())])
        assert len(_car_files(app, car.id, car.dealer_id)) == 2
        db.session.rollback()
        assert _car_files(app, car.id, car.dealer_id) == []


def test_reorder_main_caption_and_delete(app, db, dealer_ids):
    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"])
        a, b, c = service.add_photos(db.session, car, [service.Upload(f"{i}.jpg", jpeg_with_gps()) for i in range(3)])
        db.session.commit()
        service.reorder(db.session, car, [c.id, a.id, b.id])
        service.set_main(db.session, car, b)
        service.set_caption(db.session, car, b, "  Front   left ")
        db.session.commit()
        assert [p.id for p in service.ordered(car)] == [c.id, a.id, b.id]
        assert car.main_photo() is b and b.caption == "Front left"
        with pytest.raises(DomainError):
            service.reorder(db.session, car, [c.id, a.id])
        b_files = [_stored(app, p) for p in b.stored_files()]
        service.delete_photo(db.session, car, b)
        assert all(path.is_file() for path in b_files)  # not before the commit
        db.session.commit()
        assert not any(path.exists() for path in b_files)
        assert [(p.id, p.position) for p in service.ordered(car)] == [(c.id, 0), (a.id, 1)]
        assert car.main_photo().id == c.id and c.is_primary


def test_deleting_a_car_removes_its_photo_files(app, db, dealer_ids):
    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"])
        service.add_photos(db.session, car, [service.Upload("a.jpg", jpeg_with_gps())])
        db.session.commit()
        assert len(_car_files(app, car.id, car.dealer_id)) == 2
        car_id, dealer_id = car.id, car.dealer_id
        db.session.delete(db.session.get(Car, car_id))
        db.session.commit()
        assert _car_files(app, car_id, dealer_id) == []
        assert db.session.scalars(select(CarPhoto).where(CarPhoto.car_id == car_id)).all() == []


def test_a_restricted_car_gets_no_photos(app, db, dealer_ids):
    from app.models.base import utcnow

    with app.test_request_context():
        car = make_car(db, dealer_ids["north-motors"], restricted_at=utcnow())
        with pytest.raises(DomainError):
            service.add_photos(db.session, car, [service.Upload("a.jpg", jpeg_with_gps())])
        db.session.rollback()


# -- REST -----------------------------------------------------------------------------------


def _car_id(app, dealer_id: int) -> int:
    from app.extensions import db

    with app.app_context():
        car = make_car(db, dealer_id)
        db.session.commit()
        return car.id


def _files(*named: tuple[str, bytes]) -> dict:
    return {"file": [(io.BytesIO(data), name) for name, data in named]}


def test_rest_upload_list_change_and_delete(app, api, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    client = api("north-motors-staff")
    answer = client.post(
        f"/api/v1/car/{car_id}/photos",
        data=_files(("a.jpg", jpeg_with_gps()), ("b.png", image_bytes("PNG")), ("c.webp", image_bytes("WEBP"))),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    photos = answer.json["result"]
    assert [p["position"] for p in photos] == [0, 1, 2] and [p["main"] for p in photos] == [True, False, False]
    ids = [p["id"] for p in photos]
    assert client.get(f"/api/v1/car/{car_id}/photos").json["result"] == photos

    changed = client.put(f"/api/v1/car/{car_id}/photos/{ids[2]}", json={"position": 0, "main": True, "caption": "Rear"})
    assert changed.status_code == 200, changed.json
    assert [(p["id"], p["main"], p["caption"]) for p in changed.json["result"]] == [
        (ids[2], True, "Rear"),
        (ids[0], False, ""),
        (ids[1], False, ""),
    ]

    ordered = client.put(f"/api/v1/car/{car_id}/photos", json={"order": [ids[1], ids[0], ids[2]]})
    assert [p["id"] for p in ordered.json["result"]] == [ids[1], ids[0], ids[2]]

    deleted = client.delete(f"/api/v1/car/{car_id}/photos/{ids[1]}")
    assert deleted.status_code == 200
    assert [p["id"] for p in deleted.json["result"]] == [ids[0], ids[2]]


def test_rest_refuses_a_renamed_program_and_a_50_megapixel_png_and_stores_nothing(app, api, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    client = api("north-motors-staff")
    answer = client.post(
        f"/api/v1/car/{car_id}/photos",
        data=_files(("car.jpg", renamed_exe()), ("huge.png", png_50_megapixels()), ("ok.jpg", jpeg_with_gps())),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert answer.json["message"]["file"] == [
        "car.jpg is not a JPEG, PNG or WebP image.",
        "huge.png has 50 megapixels; at most 40 are accepted.",
    ]
    assert client.get(f"/api/v1/car/{car_id}/photos").json["result"] == []
    assert _car_files(app, car_id, dealer_ids["north-motors"]) == []


def test_rest_refuses_bad_changes_with_422(app, api, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    client = api("north-motors-staff")
    ids = [p["id"] for p in client.post(f"/api/v1/car/{car_id}/photos", data=_files(("a.jpg", jpeg_with_gps()))).json["result"]]
    assert client.post(f"/api/v1/car/{car_id}/photos", data={}).status_code == 422
    assert client.put(f"/api/v1/car/{car_id}/photos", json={"order": []}).status_code == 422
    assert client.put(f"/api/v1/car/{car_id}/photos", json={"order": "1"}).status_code == 422
    assert client.put(f"/api/v1/car/{car_id}/photos/{ids[0]}", json={"position": 5}).status_code == 422
    assert client.put(f"/api/v1/car/{car_id}/photos/{ids[0]}", json={"caption": "x" * 201}).status_code == 422
    assert client.put(f"/api/v1/car/{car_id}/photos/{ids[0]}", json={"main": False}).status_code == 422


def test_another_dealers_car_and_photos_are_404(app, api, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    own = api("north-motors-staff")
    photo_id = own.post(f"/api/v1/car/{car_id}/photos", data=_files(("a.jpg", jpeg_with_gps()))).json["result"][0]["id"]
    other = api("south-cars-admin")
    assert other.get(f"/api/v1/car/{car_id}/photos").status_code == 404
    assert other.post(f"/api/v1/car/{car_id}/photos", data=_files(("a.jpg", jpeg_with_gps()))).status_code == 404
    assert other.put(f"/api/v1/car/{car_id}/photos/{photo_id}", json={"caption": "mine"}).status_code == 404
    assert other.delete(f"/api/v1/car/{car_id}/photos/{photo_id}").status_code == 404
    assert len(own.get(f"/api/v1/car/{car_id}/photos").json["result"]) == 1


def test_the_photo_routes_are_in_the_openapi_document(app, login):
    spec = login("admin").get("/api/v1/_openapi").json
    paths = spec["paths"]
    assert set(paths["/api/v1/car/{pk}/photos"]) >= {"get", "post", "put"}
    assert set(paths["/api/v1/car/{pk}/photos/{photo_id}"]) >= {"put", "delete"}
    assert "multipart/form-data" in paths["/api/v1/car/{pk}/photos"]["post"]["requestBody"]["content"]
    assert "201" in paths["/api/v1/car/{pk}/photos"]["post"]["responses"]
    for name in ("CarPhotoSchema", "CarPhotoListSchema", "CarPhotoOrderSchema", "CarPhotoPutSchema"):
        assert name in spec["components"]["schemas"]


# -- the car page ----------------------------------------------------------------------------


def test_the_car_page_serves_its_photos_to_its_dealer_only(app, login, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    staff = login("north-motors-staff")
    page = staff.get(f"/carmodelview/show/{car_id}").get_data(as_text=True)
    assert 'id="car-photos"' in page and "forecourt/car-photos.js" in page
    token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
    answer = staff.client.post(
        f"/car-photos/{car_id}/",
        data=_files(("a.jpg", jpeg_with_gps())),
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    photo = answer.json["result"][0]
    image = staff.get(photo["thumb_url"])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "private" in image.headers["Cache-Control"]
    assert login("south-cars-staff").get(photo["thumb_url"]).status_code == 404
    assert login(None).get(photo["large_url"]).status_code in (302, 401)
    listing = staff.get("/carmodelview/list/?_flt_0_stock_number=" + _stock(app, car_id)).get_data(as_text=True)
    assert photo["thumb_url"] in listing


def test_the_car_pages_endpoints_need_the_csrf_token(app, login, dealer_ids):
    car_id = _car_id(app, dealer_ids["north-motors"])
    staff = login("north-motors-staff")
    answer = staff.client.post(f"/car-photos/{car_id}/", data=_files(("a.jpg", jpeg_with_gps())), content_type="multipart/form-data")
    assert answer.status_code == 400
    assert staff.get(f"/car-photos/{car_id}/").json["result"] == []


def _stock(app, car_id: int) -> str:
    from app.extensions import db

    with app.app_context():
        return db.session.get(Car, car_id).stock_number


def test_a_file_over_the_limit_is_refused_without_reading_it_whole(app, api, dealer_ids, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 2000)
    car_id = _car_id(app, dealer_ids["north-motors"])
    answer = api("north-motors-staff").post(f"/api/v1/car/{car_id}/photos", data=_files(("big.jpg", jpeg_with_gps())))
    assert answer.status_code == 422
    assert answer.json["message"]["file"] == ["big.jpg is larger than 0.002 MB."]
