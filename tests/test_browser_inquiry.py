"""The public inquiry form in a real browser (Debian's Chromium through Playwright):
without the privacy-notice tick it is refused and nothing is stored; with it the
visitor sees the thank-you page and the inquiry and its acknowledgement are in the database;
the marketing tick counts once the link mailed to the address is confirmed.

Harness: ``tests/browser_support.py``. Run alone:
``.venv/bin/python -m pytest -q tests/test_browser_inquiry.py``.
"""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import func, select

from app.domain.vin import build_vin

pytest.register_assert_rewrite("tests.browser_support")

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

SLUG = "north-motors"


def _published_car(app) -> tuple[int, str]:
    from app.extensions import db
    from app.models import Car, CarStatus, Dealer

    with app.app_context():
        dealer = db.session.scalars(select(Dealer).where(Dealer.slug == SLUG)).one()
        car = Car(
            dealer=dealer,
            stock_number=f"BI-{uuid.uuid4().hex[:8]}",
            vin=build_vin("WVW", "ZZZAU", 2022, "W", random.randrange(1, 999_999)),
            make="Cupra",
            model="Born",
            year=2022,
            mileage=9000,
            currency="EUR",
            status=CarStatus.available,
            asking_price_minor=3_200_000,
            published=True,
        )
        db.session.add(car)
        db.session.commit()
        found = car.id, f"{car.year} {car.make} {car.model}"
        db.session.remove()
        return found


def _stored(app, address: str) -> dict:
    from app.extensions import db
    from app.models import ConsentRecord, Inquiry

    with app.app_context():
        inquiries = db.session.scalars(select(Inquiry).where(Inquiry.email == address)).all()
        consents = db.session.scalars(select(ConsentRecord).where(ConsentRecord.email == address).order_by(ConsentRecord.id)).all()
        found = {
            "inquiries": [(i.car_id, i.client_id is not None, i.ip_address, i.message) for i in inquiries],
            "consents": [(c.purpose.value, c.action.value, c.method.value, c.source, c.policy_version_id) for c in consents],
            "total_consents": db.session.scalar(select(func.count()).select_from(ConsentRecord)),
        }
        db.session.remove()
        return found


def _confirmation_path(app, address: str) -> str:
    """The double opt-in link of the e-mail to ``address`` (from the outbox)."""
    import re

    from app.extensions import db
    from app.models import MailMessage

    with app.app_context():
        message = db.session.scalars(
            select(MailMessage).where(MailMessage.kind == "marketing_confirmation", MailMessage.to_address == address)
        ).one()
        found = re.search(r"/d/[a-z0-9-]+/marketing/confirm/[A-Za-z0-9_.\-]+", message.body_text).group(0)
        db.session.remove()
        return found


def _policy_version_id(app) -> int | None:
    from app.extensions import db
    from app.privacy.transparency.policy_versions import current_version

    with app.app_context():
        version = current_version(db.session)
        found = version.id if version is not None else None
        db.session.remove()
        return found


def test_the_public_inquiry_form_needs_the_privacy_tick(app, page):
    from playwright.sync_api import expect

    car_id, car_title = _published_car(app)
    address = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    path = f"/d/{SLUG}/inquiry"
    before = _stored(app, address)["total_consents"]

    page.goto(f"{path}?car={car_id}")
    expect(page.locator(".inquiry-car")).to_contain_text(car_title)
    privacy_box, marketing_box = page.locator("#privacy_notice"), page.locator("#marketing")
    expect(privacy_box).not_to_be_checked()
    expect(marketing_box).not_to_be_checked()
    expect(page.locator("a.privacy-notice-link")).to_have_attribute("href", "/privacy")

    page.locator("#name").fill("Bruno Browser")
    page.locator("#email").fill(address)
    page.locator("#message").fill("Can I test-drive it on Saturday?")
    marketing_box.check()

    # Without the acknowledgement: refused with the error on the page, nothing stored.
    page.watcher.allow_status(path, 422)
    with page.expect_navigation():
        page.get_by_role("button", name="Send my inquiry").click()
    expect(page.locator("#privacy_notice-error")).to_have_text("Please confirm that you have read the privacy notice.")
    expect(page.locator("#email")).to_have_value(address)  # what was typed is kept
    assert _stored(app, address) == {"inquiries": [], "consents": [], "total_consents": before}

    # Ticked: the thank-you page, and the inquiry with its consent records in the database.
    page.locator("#privacy_notice").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send my inquiry").click()
    expect(page.locator("h1.inquiry-sent")).to_have_text("Thank you")
    expect(page.locator(".marketing-confirmation")).to_be_visible()

    # The marketing tick counts only once the address confirms the link mailed to it.
    stored = _stored(app, address)
    assert stored["inquiries"] == [(car_id, False, None, "Can I test-drive it on Saturday?")]
    version = _policy_version_id(app)
    assert stored["consents"] == [("privacy_notice", "acknowledged", "inquiry_form", path, version)]

    page.goto(_confirmation_path(app, address))
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, send me offers").click()
    expect(page.locator(".marketing-confirmed")).to_be_visible()
    stored = _stored(app, address)
    assert stored["inquiries"] == [(car_id, True, None, "Can I test-drive it on Saturday?")]
    assert stored["consents"] == [
        ("privacy_notice", "acknowledged", "inquiry_form", path, version),
        ("marketing", "given", "double_opt_in", path, version),
    ]
    page.watcher.assert_clean()
