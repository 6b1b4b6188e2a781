"""The public inquiry form as a visitor uses it, and the double opt-in e-mail: shared by
the consent tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.models import ConsentRecord, MailMessage, PolicyVersion
from app.privacy.transparency.policy_versions import current_version
from tests.factories import new_email
from tests.web_support import token_from

A = "north-motors"
CONFIRM_LINK = re.compile(r"https?://[^\s]+(/d/[a-z0-9-]+/marketing/confirm/[A-Za-z0-9_.\-]+)")


def form_path(slug: str = A) -> str:
    return f"/d/{slug}/inquiry"


def visitor(app, ip: str = "192.0.2.10", forwarded_for: str | None = None):
    """An anonymous browser from ``ip`` (and claiming ``forwarded_for`` behind it)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    client.environ_base["HTTP_USER_AGENT"] = "ConsentTest/1.0 (X11; Linux)"
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def send_inquiry(client, url: str = form_path(), *, ack: bool = True, marketing: bool = False, **fields):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {"name": "Vera Visitor", "email": new_email(), "phone": "", "message": "Is the car still available?"}
    data.update(fields)
    data["csrf_token"] = token_from(page.get_data(as_text=True))
    if ack:
        data["privacy_notice"] = "y"
    if marketing:
        data["marketing"] = "y"
    return client.post(url, data=data), data


def confirmation_path(db, address: str) -> str:
    """The path of the double opt-in link in the last confirmation e-mail to ``address``."""
    db.session.expire_all()
    message = db.session.scalars(
        select(MailMessage)
        .where(MailMessage.kind == "marketing_confirmation", MailMessage.to_address == address)
        .order_by(MailMessage.id.desc())
    ).first()
    assert message is not None, f"no confirmation e-mail to {address}"
    return CONFIRM_LINK.search(message.body_text).group(1)


def records(db, **criteria) -> list[ConsentRecord]:
    db.session.expire_all()
    query = select(ConsentRecord)
    for name, value in criteria.items():
        query = query.where(getattr(ConsentRecord, name) == value)
    return db.session.scalars(query.order_by(ConsentRecord.id)).all()


@pytest.fixture(scope="module")
def policy(app):
    """The policy version in force (one is published long ago when there is none)."""
    from app.extensions import db

    with app.app_context():
        version = current_version(db.session)
        if version is None:
            past = datetime(2000, 1, 1, tzinfo=UTC)
            number = (db.session.scalar(select(func.max(PolicyVersion.version))) or 0) + 100
            version = PolicyVersion(
                version=number,
                title="Privacy notice",
                body="What we do with your data.",
                material=True,
                published_at=past,
                effective_at=past,
            )
            db.session.add(version)
            db.session.commit()
        version_id = version.id
        db.session.remove()
    return version_id
