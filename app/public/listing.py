"""A dealer's public listing (its own blueprint): ``/d/<slug>/cars`` and ``/d/<slug>/cars/<id>``
with schema.org ``Car``/``Offer`` JSON-LD, the feeds ``/d/<slug>/cars.json`` and
``/d/<slug>/cars.csv`` for listing portals, and the listed cars' photos.

No cookie, no session, no tracking, no personal data: every answer may be cached for
``PUBLIC_LISTING_MAX_AGE`` seconds and carries an ETag (``If-None-Match`` answers 304).
What is listed is decided by ``app.workbench.listing``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, url_for

from app.extensions import db
from app.models import Car, CarPhoto, Dealer
from app.workbench import listing
from app.workbench.photos import photo_file

listing_bp = Blueprint("listing", __name__)

# Spreadsheets run cells starting with these as formulas (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@listing_bp.after_request
def cacheable(response: Response) -> Response:
    """Public and cacheable; never a cookie (nothing here reads or writes the session)."""
    if response.status_code in (200, 304):
        response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_LISTING_MAX_AGE'])}"
        response.vary.add("Accept-Language")
    else:
        response.headers["Cache-Control"] = "no-store"
    response.headers.remove("Set-Cookie")
    return response


def _dealer(slug: str) -> Dealer:
    dealer = listing.listing_dealer(db.session, slug)
    if dealer is None:
        abort(404)
    return dealer


def _urls(dealer: Dealer) -> dict[str, Any]:
    def car_url(car: Car) -> str:
        return url_for("listing.car", slug=dealer.slug, car_id=car.id, _external=True)

    def inquiry_url(car: Car) -> str:
        return url_for("public.dealer_inquiry", slug=dealer.slug, car=car.id, _external=True)

    def photo_url(photo: CarPhoto, variant: str) -> str:
        return url_for("listing.photo", slug=dealer.slug, photo_id=photo.id, variant=variant, _external=True)

    return {"car_url": car_url, "inquiry_url": inquiry_url, "photo_url": photo_url}


def _conditional(response: Response) -> Response:
    response.add_etag()
    return response.make_conditional(request)


@listing_bp.get("/d/<slug>/cars")
def cars(slug: str):
    dealer = _dealer(slug)
    urls = _urls(dealer)
    listed = listing.listed_cars(db.session, dealer)
    json_ld = listing.list_json_ld(listed, dealer, urls["car_url"], urls["photo_url"])
    html = render_template("public/listing_cars.html", dealer=dealer, cars=listed, json_ld=json_ld, listing=listing, **urls)
    return _conditional(Response(html, mimetype="text/html"))


@listing_bp.get("/d/<slug>/cars/<int:car_id>")
def car(slug: str, car_id: int):
    dealer = _dealer(slug)
    found = listing.listed_car(db.session, dealer, car_id)
    if found is None:
        abort(404)
    urls = _urls(dealer)
    json_ld = listing.car_json_ld(found, dealer, urls["car_url"], urls["photo_url"])
    html = render_template("public/listing_car.html", dealer=dealer, car=found, json_ld=json_ld, listing=listing, **urls)
    return _conditional(Response(html, mimetype="text/html"))


@listing_bp.get("/d/<slug>/cars.json")
def feed_json(slug: str):
    dealer = _dealer(slug)
    rows = _feed(dealer)
    body = {"dealer": {"name": dealer.business_name, "listing": url_for("listing.cars", slug=dealer.slug, _external=True)}, "cars": rows}
    return _conditional(Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json"))


@listing_bp.get("/d/<slug>/cars.csv")
def feed_csv(slug: str):
    dealer = _dealer(slug)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(listing.FEED_COLUMNS)
    for row in _feed(dealer):
        writer.writerow([_csv_cell(row[name]) for name in listing.FEED_COLUMNS])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'inline; filename="{dealer.slug}-cars.csv"'
    return _conditional(response)


def _feed(dealer: Dealer) -> list[dict[str, Any]]:
    urls = _urls(dealer)
    return [listing.feed_row(c, urls["car_url"], urls["inquiry_url"], urls["photo_url"]) for c in listing.listed_cars(db.session, dealer)]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ",".join(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@listing_bp.get("/d/<slug>/photos/<int:photo_id>/<variant>.jpg")
def photo(slug: str, photo_id: int, variant: str):
    """A photo of a listed car; any other photo (unpublished, sold, restricted, another
    dealer's) is a 404."""
    if variant not in ("thumb", "large"):
        abort(404)
    found = listing.listed_photo(db.session, _dealer(slug), photo_id)
    path = photo_file(found, variant) if found is not None else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", etag=f"{found.content_sha256}-{variant}", max_age=0, conditional=True)
    return response
