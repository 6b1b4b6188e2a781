"""Restriction (GDPR Art. 18) and objection (Art. 21) in every category the registry knows:
a dealer user's usage log and account, not only client data; and an honest answer (event
and mail) when nothing could be restricted or objected to."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.domain import DomainError
from app.models import DealerUser, PageView, PrivacyRequest, RequestStatus, RequestType
from app.privacy.requests import restriction
from config import DEMO_PASSWORD
from tests.privacy_support import events, file_and_process, messages, run_request_jobs, user_id
from tests.queue_support import run_queue

PAGE = "/carmodelview/list/"
STOPPED_LINE = "We no longer record the pages you open while you are signed in."
RESTRICTED_LINE = "We have restricted the processing of your data"
NOTHING_LINE = "We found no data about you that could be restricted, so nothing has changed."
LIFT_LINE = "We will tell you before we lift the restriction."
MARKETING_LINE = "We have stopped using your data for direct marketing"


@pytest.fixture
def person(app, db):
    """A dealer user of this test alone: (username, id, e-mail)."""
    from app.provisioning import create_user

    tag = uuid.uuid4().hex[:8]
    user = create_user(
        f"restrict-{tag}",
        DEMO_PASSWORD,
        f"restrict-{tag}@example.org",
        "DealerStaff",
        "north-motors",
        "Rita",
        f"Restrict{tag}",
        check_policy=False,
    )
    return user.username, user.id, user.email


def views_of(db, uid: int) -> list[PageView]:
    db.session.expire_all()
    return list(db.session.scalars(select(PageView).where(PageView.user_id == uid).order_by(PageView.id)))


def outcome_of(db, request_id: int) -> list[tuple[str, str, int]]:
    [event] = events(db, request_id, "restriction_outcome")
    return [(line["table"], line["action"], line["rows"]) for line in event.data["categories"]]


def test_restricting_a_dealer_user_stops_logging_their_page_views(app, db, login, person):
    username, uid, email = person
    browser = login(username)
    assert browser.get(PAGE).status_code == 200
    [before] = views_of(db, uid)

    request_id = file_and_process(db, RequestType.restriction, email, None)
    run_request_jobs(app)

    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request_id).status is RequestStatus.completed
    assert db.session.get(DealerUser, uid).usage_restricted_at is not None
    [restricted_view] = views_of(db, uid)
    assert restricted_view.id == before.id and restricted_view.restricted_at is not None
    assert browser.get(PAGE).status_code == 200
    assert [v.id for v in views_of(db, uid)] == [before.id]  # not recorded any more

    [event] = events(db, request_id, "restricted")
    assert event.data == {"rows": {"page_view": 1}, "newly_restricted": {"page_view": 1}, "usage_log_stopped": 1}
    assert outcome_of(db, request_id) == [
        ("page_view", "restricted", 1),
        ("privacy_request", "kept", 1),
        ("page_view", "usage_log_stopped", 1),
        ("ab_user", "kept", 1),
    ]
    [mail] = messages(db, request_id, "completed")
    assert RESTRICTED_LINE in mail.body_text and "- Usage and technical data: 1 restricted" in mail.body_text
    assert STOPPED_LINE in mail.body_text and LIFT_LINE in mail.body_text and NOTHING_LINE not in mail.body_text
    assert "- User accounts: Needed to sign you in" in mail.body_text
    assert "- Privacy requests: Proof that the request was answered" in mail.body_text
    assert STOPPED_LINE in mail.body_html


def test_lifting_a_users_restriction_starts_logging_again_after_they_are_told(app, db, login, person):
    username, uid, email = person
    browser = login(username)
    browser.get(PAGE)
    request_id = file_and_process(db, RequestType.restriction, email, None)
    run_request_jobs(app)
    request = db.session.get(PrivacyRequest, request_id)
    assert restriction.restricted_rows(db.session, request) == {"client": 0, "inquiry": 0, "page_view": 1, "sale": 0, "ab_user": 1}

    restriction.request_lift(db.session, request, user_id(db, "privacy"))
    db.session.commit()
    run_queue(app)  # the lifting notice is sent, then the restriction is lifted

    db.session.expire_all()
    [lifted] = events(db, request_id, "restriction_lifted")
    assert lifted.data["rows"] == {"page_view": 1, "ab_user": 1}
    assert db.session.get(DealerUser, uid).usage_restricted_at is None
    assert [v.restricted_at for v in views_of(db, uid)] == [None]
    browser.get(PAGE)
    assert len(views_of(db, uid)) == 2


def test_objection_by_a_dealer_user_stops_usage_logging(app, db, login, person):
    username, uid, email = person
    browser = login(username)
    browser.get(PAGE)
    browser.get(PAGE)

    request_id = file_and_process(db, RequestType.objection, email, None)
    run_request_jobs(app)

    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request_id).status is RequestStatus.completed
    user = db.session.get(DealerUser, uid)
    assert user.usage_objected_at is not None and user.usage_restricted_at is None
    assert [v.restricted_at is not None for v in views_of(db, uid)] == [True, True]
    browser.get(PAGE)
    assert len(views_of(db, uid)) == 2

    [event] = events(db, request_id, "usage_objection_recorded")
    assert event.data == {"users": 1, "page_views_restricted": 2}
    [done] = events(db, request_id, "completed")
    assert done.data == {"clients": 0, "users": 1, "nothing_applied": False}
    [mail] = messages(db, request_id, "completed")
    assert STOPPED_LINE in mail.body_text and "are deleted when their 90 days are over" in mail.body_text
    assert MARKETING_LINE not in mail.body_text  # no client data: no marketing to stop


def test_a_restriction_with_nothing_to_restrict_says_so_in_the_mail(app, db):
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    request_id = file_and_process(db, RequestType.restriction, email, None)
    run_request_jobs(app)

    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request_id)
    assert request.status is RequestStatus.completed
    [event] = events(db, request_id, "restriction_outcome")
    assert event.data["nothing_restricted"] is True
    assert outcome_of(db, request_id) == [("privacy_request", "kept", 1)]
    [done] = events(db, request_id, "completed")
    assert done.data == {"restricted": 0, "nothing_restricted": True}
    [mail] = messages(db, request_id, "completed")
    assert NOTHING_LINE in mail.body_text and NOTHING_LINE in mail.body_html
    assert RESTRICTED_LINE not in mail.body_text and LIFT_LINE not in mail.body_text and STOPPED_LINE not in mail.body_text
    with pytest.raises(DomainError):
        restriction.request_lift(db.session, request, user_id(db, "privacy"))


def test_an_objection_with_nothing_to_object_to_says_so_in_the_mail(app, db):
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    request_id = file_and_process(db, RequestType.objection, email, None)
    run_request_jobs(app)

    db.session.expire_all()
    [done] = events(db, request_id, "completed")
    assert done.data == {"clients": 0, "users": 0, "nothing_applied": True}
    assert events(db, request_id, "usage_objection_recorded") == []
    [mail] = messages(db, request_id, "completed")
    assert "We found no data about you that we use for direct marketing" in mail.body_text
    assert MARKETING_LINE not in mail.body_text and STOPPED_LINE not in mail.body_text


def test_a_restriction_mail_is_in_the_persons_language(app, db, login, person):
    username, _uid, email = person
    login(username).get(PAGE)
    request_id = file_and_process(db, RequestType.restriction, email, None, language="de")
    run_request_jobs(app)

    db.session.expire_all()
    [mail] = messages(db, request_id, "completed")
    assert mail.language == "de"
    # The category names come from the registry, translated when the mail is rendered.
    assert "User accounts" not in mail.body_text and "Benutzerkonten" in mail.body_text
    assert "Wir informieren Sie, bevor wir die Einschränkung aufheben." in mail.body_text


def test_lifting_a_restriction_keeps_an_objection_to_the_usage_log(app, db, login, person):
    username, uid, email = person
    browser = login(username)
    browser.get(PAGE)
    restricted_id = file_and_process(db, RequestType.restriction, email, None)
    run_request_jobs(app)
    file_and_process(db, RequestType.objection, email, None)
    run_request_jobs(app)

    request = db.session.get(PrivacyRequest, restricted_id)
    assert restriction.restricted_rows(db.session, request) == {"client": 0, "inquiry": 0, "page_view": 0, "sale": 0, "ab_user": 1}
    restriction.request_lift(db.session, request, user_id(db, "privacy"))
    db.session.commit()
    run_queue(app)

    db.session.expire_all()
    user = db.session.get(DealerUser, uid)
    assert user.usage_restricted_at is None and user.usage_objected_at is not None
    assert [v.restricted_at is not None for v in views_of(db, uid)] == [True]
    browser.get(PAGE)
    assert len(views_of(db, uid)) == 1
