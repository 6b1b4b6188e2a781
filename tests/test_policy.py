"""Privacy policy versions, their announcement, the public pages and the sub-processors.

The database is shared by the whole test session: every version and sub-processor a
test creates is removed again by its fixture (published versions with raw SQL, the
only way past the rule that they never change).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask_appbuilder.security.sqla.models import Role
from flask_babel import force_locale
from sqlalchemy import func, select, text

from app.domain import DomainError
from app.domain.formatting import format_date
from app.domain.grants import DEALER_ADMIN
from app.domain.policy_text import render_policy
from app.models import MailMessage, PolicyVersion, SubProcessor, SubProcessorCategory
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.transparency import initial_policy, policy_drafts, policy_publishing, policy_versions, subprocessors
from tests.privacy_support import user_id
from tests.queue_support import run_queue

LIST = "/policyversions/list/"
ADD = "/policyversions/add"
SP_LIST = "/subprocessors/list/"
SP_ADD = "/subprocessors/add"


# ---------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def versions(db):
    """Ids of the versions a test creates; removed afterwards, published or not."""
    created: list[int] = []
    yield created
    db.session.rollback()
    for pk in created:
        db.session.execute(text("DELETE FROM policy_version WHERE id = :id"), {"id": pk})
    db.session.commit()


@pytest.fixture
def people(app, db):
    """Users of this test: active in German and Ukrainian, switched off, deactivated."""
    from app.provisioning import create_user

    tag = uuid.uuid4().hex[:6]
    made = {}
    for key, language in (
        ("de", "de"),
        ("uk", "uk"),
        ("inactive", None),
        ("deactivated", None),
    ):
        name = f"policy-{key}-{tag}"
        made[key] = create_user(name, "a-long-password", f"{name}@example.org", "Staff", language=language).id
    db.session.get(DealerUser, made["inactive"]).active = False
    db.session.get(DealerUser, made["deactivated"]).deactivated_at = utcnow()
    db.session.commit()
    yield {key: db.session.get(DealerUser, pk).email for key, pk in made.items()}
    db.session.rollback()
    for pk in made.values():
        db.session.delete(db.session.get(DealerUser, pk))
    db.session.commit()


def draft(db, versions, *, material: bool = True, number: int | None = None, **fields) -> PolicyVersion:
    version = PolicyVersion(
        version=number or policy_versions.next_version_number(db.session),
        title=fields.pop("title", "Privacy policy"),
        summary=fields.pop("summary", "We now also keep a log of sign-ins for 90 days."),
        body=fields.pop("body", "# Cookies {#cookies}\n\nOnly essential cookies."),
        material=material,
        **fields,
    )
    policy_drafts.check_draft(db.session, version)
    db.session.add(version)
    db.session.commit()
    versions.append(version.id)
    return version


def last_mail_id(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.max(MailMessage.id))) or 0


def mails_since(db, mail_id: int, kind: str) -> list[MailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).where(MailMessage.id > mail_id, MailMessage.kind == kind)))


def active_emails(db) -> set[str]:
    return set(
        db.session.scalars(
            select(DealerUser.email).where(
                DealerUser.active.is_(True),
                DealerUser.deactivated_at.is_(None),
                DealerUser.anonymised_at.is_(None),
            )
        )
    )


def reloaded(db, pk: int) -> PolicyVersion:
    db.session.expire_all()
    return db.session.get(PolicyVersion, pk)


# ---------------------------------------------------------------------- the first version


def test_init_creates_version_1_exactly_once(app, db):
    first = policy_versions.published_version(db.session, 1)
    assert first is not None, "a fresh install has version 1"
    before = db.session.scalar(select(func.count()).select_from(PolicyVersion))
    result = app.test_cli_runner().invoke(args=["forecourt", "init"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == before
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion).where(PolicyVersion.version == 1)) == 1
    first = policy_versions.published_version(db.session, 1)
    assert first.effective_at <= utcnow() and not first.material and first.notified_at is None
    assert initial_policy.ensure_first_version(db.session) is None


def test_version_1_states_what_the_service_promises(app, db):
    body = policy_versions.published_version(db.session, 1).body
    for promise in (
        "/privacy/request",
        "30 days",
        "3 years",
        "90 days",
        "24 months",
        "under 16",
        "European Union",
        "/privacy/subprocessors",
        "supervisory authority",
        app.config["PRIVACY_OFFICER_EMAIL"],
        "{#cookies}",
        "only essential cookies",
        "language preference",
        "portability",
        "restrict",
    ):
        assert promise in body, promise
    html = render_policy(body)
    assert '<h2 id="cookies">' in html
    assert '<a href="/privacy/request">' in html


# ---------------------------------------------------------------------- publishing


def test_a_material_change_with_13_days_notice_is_refused_and_changes_nothing(app, db, versions):
    version = draft(db, versions)
    mail_id = last_mail_id(db)
    now = utcnow()
    for effective_at in (
        now + timedelta(days=13),
        now + timedelta(days=14) - timedelta(seconds=1),
        None,
        now - timedelta(days=1),
    ):
        with pytest.raises(DomainError):
            policy_publishing.publish(
                db.session,
                version.id,
                effective_at=effective_at,
                material=True,
                now=now,
            )
        db.session.rollback()
    stored = reloaded(db, version.id)
    assert (stored.published_at, stored.effective_at, stored.notified_at) == (
        None,
        None,
        None,
    )
    assert stored.material is True
    assert mails_since(db, mail_id, "policy_changed") == []


def test_a_material_change_with_14_days_notice_mails_every_active_user_in_their_language(app, db, versions, people):
    version = draft(db, versions)
    mail_id = last_mail_id(db)
    now = utcnow()
    effective_at = now + timedelta(days=14)
    publication = policy_publishing.publish(
        db.session,
        version.id,
        effective_at=effective_at,
        material=True,
        actor_id=user_id(db, "privacy"),
        now=now,
    )
    db.session.commit()

    mails = mails_since(db, mail_id, "policy_changed")
    assert publication.notified == len(mails)
    recipients = {m.to_address for m in mails}
    assert recipients == active_emails(db)
    assert len(mails) == len(recipients), "one message per user"
    assert people["inactive"] not in recipients and people["deactivated"] not in recipients
    by_address = {m.to_address: m for m in mails}
    assert by_address[people["de"]].language == "de"
    assert by_address[people["uk"]].language == "uk"
    with force_locale("de"):
        german_date = format_date(effective_at)
    assert german_date in by_address[people["de"]].body_text
    for message in (by_address[people["de"]], by_address[people["uk"]]):
        assert "We now also keep a log of sign-ins for 90 days." in message.body_text
        assert f"/privacy?version={version.version}" in message.body_text

    stored = reloaded(db, version.id)
    assert stored.published_at == now and stored.effective_at == effective_at and stored.notified_at == now
    assert policy_publishing.announce(db.session, stored, now=now + timedelta(hours=1)) == 0, "announced once only"
    db.session.commit()
    assert len(mails_since(db, mail_id, "policy_changed")) == len(mails)

    run_queue(app)  # the real queue sends them
    assert all(m.sent_at is not None for m in mails_since(db, mail_id, "policy_changed"))


def test_a_change_that_is_not_material_takes_effect_at_once_unannounced(app, db, versions):
    version = draft(db, versions, material=False, summary="Typo fixed.")
    mail_id = last_mail_id(db)
    now = utcnow()
    publication = policy_publishing.publish(db.session, version.id, effective_at=None, material=False, now=now)
    db.session.commit()
    assert publication.notified == 0
    assert reloaded(db, version.id).effective_at == now
    assert policy_versions.current_version(db.session, now).id == version.id
    assert policy_versions.announced_version(db.session, now) is None
    assert mails_since(db, mail_id, "policy_changed") == []


def test_version_numbers_and_effective_dates_only_increase(app, db, versions):
    lower = draft(db, versions)
    higher = draft(db, versions)
    now = utcnow()
    policy_publishing.publish(
        db.session,
        higher.id,
        effective_at=now + timedelta(days=20),
        material=True,
        now=now,
    )
    db.session.commit()
    with pytest.raises(DomainError):
        policy_publishing.publish(
            db.session,
            lower.id,
            effective_at=now + timedelta(days=30),
            material=True,
            now=now,
        )
    db.session.rollback()
    with pytest.raises(DomainError):  # a typo fix cannot overtake the announced change
        newest = draft(db, versions, material=False)
        policy_publishing.publish(db.session, newest.id, effective_at=None, material=False, now=now)
    db.session.rollback()
    renumbered = PolicyVersion(version=higher.version, title="x", body="y")
    with pytest.raises(DomainError):
        policy_drafts.check_draft(db.session, renumbered)
    assert reloaded(db, lower.id).published_at is None


def test_the_public_page_switches_to_the_new_version_on_its_effective_date(app, db, versions):
    now = utcnow()
    previous = policy_versions.current_version(db.session, now)
    version = draft(db, versions, title="Privacy policy 2027")
    effective_at = now + timedelta(days=15)
    policy_publishing.publish(db.session, version.id, effective_at=effective_at, material=True, now=now)
    db.session.commit()

    assert policy_versions.current_version(db.session, effective_at - timedelta(seconds=1)).id == previous.id
    assert policy_versions.current_version(db.session, effective_at).id == version.id
    assert policy_versions.upcoming_version(db.session, now).id == version.id

    client = app.test_client()
    page = client.get("/privacy").get_data(as_text=True)
    assert f"Version {previous.version}, in force from" in page
    assert f'href="/privacy?version={version.version}"' in page
    assert "policy-upcoming" in page
    upcoming = client.get(f"/privacy?version={version.version}").get_data(as_text=True)
    assert "Privacy policy 2027" in upcoming and f"Version {version.version}, takes effect on" in upcoming


def test_drafts_are_never_public(app, db, versions):
    version = draft(db, versions, title="Secret draft title")
    client = app.test_client()
    assert client.get(f"/privacy?version={version.version}").status_code == 404
    assert "Secret draft title" not in client.get("/privacy").get_data(as_text=True)
    assert client.get("/privacy?version=not-a-number").status_code == 404


# ---------------------------------------------------------------------- immutability


def test_a_published_version_can_never_be_edited_or_deleted(app, db, login):
    first = policy_versions.published_version(db.session, 1)
    original = first.body
    first.body = original + "\n\nA sneaky addition."
    with pytest.raises(policy_drafts.PublishedPolicyError):
        db.session.flush()
    db.session.rollback()
    first = policy_versions.published_version(db.session, 1)
    first.effective_at = first.effective_at + timedelta(days=1)
    with pytest.raises(policy_drafts.PublishedPolicyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(policy_versions.published_version(db.session, 1))
    with pytest.raises(policy_drafts.PublishedPolicyError):
        db.session.flush()
    db.session.rollback()

    officer = login("privacy")
    pk = policy_versions.published_version(db.session, 1).id
    edit = f"/policyversions/edit/{pk}"
    officer.post_form(
        edit,
        {
            "version": "1",
            "title": "Changed",
            "summary": "",
            "body": "Changed",
            "material": "y",
        },
        form_url=LIST,
    )
    assert officer.get(edit).status_code == 302, "a published version has no edit form"
    officer.post_form(f"/policyversions/delete/{pk}", {}, form_url=LIST)
    stored = reloaded(db, pk)
    assert stored is not None and stored.body == original and stored.title != "Changed"
    page = officer.get(f"/policyversions/publish/{pk}", follow_redirects=True).get_data(as_text=True)
    assert "is published already" in page


def test_the_policy_text_cannot_inject_html(app, db, versions, login):
    html = render_policy("<script>alert(1)</script>\n\n# <b>Title</b> {#x}\n\n- <img src=x onerror=alert(1)>")
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    version = draft(
        db,
        versions,
        body='Hello <script>alert("x")</script> see https://example.org/a?b=1&c="2"',
    )
    page = login("privacy").get(f"/policyversions/show/{version.id}").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


# ---------------------------------------------------------------------- the views


def test_the_officer_drafts_and_publishes_through_the_view(app, db, versions, login):
    officer = login("privacy")
    mail_id = last_mail_id(db)
    number = policy_versions.next_version_number(db.session)
    response = officer.post_form(
        ADD,
        {
            "version": "",
            "title": "Privacy policy (2027)",
            "summary": "New: usage log.",
            "body": "Text.",
            "material": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    created = db.session.scalars(select(PolicyVersion).where(PolicyVersion.version == number)).one()
    versions.append(created.id)
    assert created.published_at is None

    publish = f"/policyversions/publish/{created.id}"
    form = officer.get(publish)
    assert form.status_code == 200 and 'name="effective_at"' in form.get_data(as_text=True)
    too_soon = (utcnow() + timedelta(days=13)).strftime("%Y-%m-%dT%H:%M")
    refused = officer.post_form(publish, {"material": "y", "effective_at": too_soon})
    assert refused.status_code == 422
    assert "at least 14 days" in refused.get_data(as_text=True)
    assert reloaded(db, created.id).published_at is None
    assert mails_since(db, mail_id, "policy_changed") == []

    in_time = (utcnow() + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    accepted = officer.post_form(publish, {"material": "y", "effective_at": in_time})
    assert accepted.status_code == 302
    stored = reloaded(db, created.id)
    assert stored.published_at is not None and stored.notified_at is not None
    assert stored.published_by_id == user_id(db, "privacy")
    assert {m.to_address for m in mails_since(db, mail_id, "policy_changed")} == active_emails(db)
    run_queue(app)


def test_the_banner_shows_a_published_material_change_to_signed_in_users_until_it_takes_effect(app, db, versions, login):
    now = utcnow()
    version = draft(db, versions, summary="Usage data is now kept for 60 days.")
    effective_at = now + timedelta(days=14, hours=1)
    policy_publishing.publish(db.session, version.id, effective_at=effective_at, material=True, now=now)
    db.session.commit()
    run_queue(app)

    link = f'href="/privacy?version={version.version}"'
    for username, page in (
        ("staff", "/"),
        ("north-motors-staff", "/carmodelview/list/"),
        ("privacy", LIST),
    ):
        html = login(username).get(page).get_data(as_text=True)
        assert "policy-banner" in html and link in html, username
        assert "Usage data is now kept for 60 days." in html
    anonymous = app.test_client().get("/login/").get_data(as_text=True)
    assert "policy-banner" not in anonymous

    assert policy_versions.announced_version(db.session, effective_at - timedelta(minutes=1)).id == version.id
    assert policy_versions.announced_version(db.session, effective_at) is None
    assert policy_versions.announced_version(db.session, now - timedelta(minutes=1)) is None, "not before publication"


@pytest.mark.parametrize(
    "username,allowed",
    [
        ("admin", {LIST, ADD, SP_LIST, SP_ADD}),
        ("privacy", {LIST, ADD, SP_LIST, SP_ADD}),
        ("staff", {SP_LIST, SP_ADD}),
        ("north-motors-admin", set()),
        ("north-motors-staff", set()),
    ],
)
def test_who_manages_the_policy_and_the_sub_processors(app, db, login, versions, username, allowed):
    browser = login(username)
    for url in (LIST, ADD, SP_LIST, SP_ADD):
        status = browser.get(url).status_code
        assert (status == 200) == (url in allowed), (username, url, status)
    if username.startswith("north-motors"):
        version = draft(db, versions)
        future = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
        response = browser.post_form(
            f"/policyversions/publish/{version.id}",
            {"material": "y", "effective_at": future},
            form_url="/carmodelview/add",
        )
        assert response.status_code in (302, 403)
        assert reloaded(db, version.id).published_at is None


# ---------------------------------------------------------------------- public pages and sub-processors


def test_the_policy_and_sub_processor_pages_render_for_anonymous_visitors(app, db):
    client = app.test_client()
    policy_page = client.get("/privacy")
    assert policy_page.status_code == 200
    html = policy_page.get_data(as_text=True)
    current = policy_versions.current_version(db.session)
    assert f"Version {current.version}, in force from" in html
    assert 'id="cookies"' in html and 'href="/privacy/subprocessors"' in html
    assert 'href="/privacy#cookies"' in html, "the cookie notice links to the policy"

    listing = client.get("/privacy/subprocessors")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    active, removed = page.split("Recently removed")
    assert "Hetzner Online GmbH" in active and "Brevo SAS" in active
    assert "OVH SAS" in removed and "OVH SAS" not in active


@pytest.fixture
def subprocessor_rows(db):
    yield
    db.session.rollback()
    db.session.execute(text("DELETE FROM sub_processor WHERE name LIKE 'Test Processor %'"))
    db.session.commit()


def dealer_admin_emails(db) -> set[str]:
    return set(
        db.session.scalars(
            select(DealerUser.email)
            .join(DealerUser.roles)
            .where(
                Role.name == DEALER_ADMIN,
                DealerUser.active.is_(True),
                DealerUser.deactivated_at.is_(None),
                DealerUser.anonymised_at.is_(None),
            )
        )
    )


def test_adding_a_sub_processor_mails_every_dealer_admin(app, db, login, subprocessor_rows):
    mail_id = last_mail_id(db)
    name = f"Test Processor {uuid.uuid4().hex[:6]}"
    response = login("staff").post_form(
        SP_ADD,
        {
            "name": name,
            "purpose": "Error tracking",
            "location": "Finland (EU)",
            "country": "FI",
            "category": "other",
            "since": date.today().isoformat(),
            "website": "https://example.org",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalars(select(SubProcessor).where(SubProcessor.name == name)).one()
    assert row.notified_at is not None

    mails = mails_since(db, mail_id, "subprocessor_added")
    assert {m.to_address for m in mails} == dealer_admin_emails(db)
    assert {
        "north-motors-admin@forecourt.example",
        "south-cars-admin@forecourt.example",
    } <= {m.to_address for m in mails}
    assert all(name in m.subject and "/privacy/subprocessors" in m.body_text for m in mails)
    assert subprocessors.notify_added(db.session, row) == 0, "told once only"
    run_queue(app)
    assert all(m.sent_at is not None for m in mails_since(db, mail_id, "subprocessor_added"))
    assert name in app.test_client().get("/privacy/subprocessors").get_data(as_text=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"since": (date.today() + timedelta(days=400)).isoformat()},
        {"name": "   "},
        {"location": ""},
        {"website": "javascript:alert(1)"},
    ],
)
def test_an_invalid_sub_processor_is_refused_and_nobody_is_told(app, db, login, subprocessor_rows, fields):
    mail_id = last_mail_id(db)
    before = db.session.scalar(select(func.count()).select_from(SubProcessor))
    data = {
        "name": "Test Processor invalid",
        "purpose": "Analytics",
        "location": "Ireland (EU)",
        "country": "IE",
        "category": "other",
        "since": date.today().isoformat(),
        "website": "",
    }
    data.update(fields)
    login("privacy").post_form(SP_ADD, data)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SubProcessor)) == before
    assert mails_since(db, mail_id, "subprocessor_added") == []


def test_a_sub_processor_is_not_saved_when_the_admins_cannot_be_told(app, db, login, subprocessor_rows, monkeypatch):
    notify = subprocessors.notify_added

    def fail(session, item, now=None):
        notify(session, item, now)  # the notices are queued, then something breaks
        raise RuntimeError("mail outbox unavailable")

    monkeypatch.setattr(subprocessors, "notify_added", fail)
    mail_id = last_mail_id(db)
    before = db.session.scalar(select(func.count()).select_from(SubProcessor))
    response = login("staff").post_form(
        SP_ADD,
        {
            "name": "Test Processor untold",
            "purpose": "Error tracking",
            "location": "Finland (EU)",
            "country": "FI",
            "category": "other",
            "since": date.today().isoformat(),
            "website": "",
        },
        follow_redirects=True,
    )
    assert "the dealer administrators could not be told" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SubProcessor)) == before
    assert mails_since(db, mail_id, "subprocessor_added") == []


def test_sub_processor_rules():
    today = date(2026, 5, 1)
    ok = SubProcessor(
        name=" Hosting Co ", purpose="Hosting", location="Germany (EU)", since=today, country="DE", category=SubProcessorCategory.hosting
    )
    subprocessors.check_subprocessor(ok, today)
    assert ok.name == "Hosting Co"
    for change, field in (
        ({"since": today + timedelta(days=181)}, "since"),
        ({"purpose": ""}, "purpose"),
        ({"removed_on": today - timedelta(days=1)}, "removed_on"),
        ({"website": "ftp://example.org"}, "website"),
        ({"country": ""}, "country"),
        ({"country": "US"}, "transfer_safeguard"),
        ({"dpa_signed_on": today + timedelta(days=1)}, "dpa_signed_on"),
    ):
        item = SubProcessor(
            name="Co", purpose="Hosting", location="Germany (EU)", since=today, country="DE", category=SubProcessorCategory.hosting
        )
        for key, value in change.items():
            setattr(item, key, value)
        with pytest.raises(DomainError) as error:
            subprocessors.check_subprocessor(item, today)
        assert error.value.field == field


def test_a_draft_can_be_edited_and_deleted(app, db, versions, login):
    officer = login("privacy")
    version = draft(db, versions, title="First try")
    response = officer.post_form(
        f"/policyversions/edit/{version.id}",
        {
            "version": str(version.version),
            "title": "Second try",
            "summary": "",
            "body": "Better text.",
            "material": "y",
        },
    )
    assert response.status_code == 302
    assert reloaded(db, version.id).title == "Second try"
    page = officer.get(f"/policyversions/publish/{version.id}").get_data(as_text=True)
    assert 'id="policy-publish-form"' in page and "Second try" in page
    officer.post_form(f"/policyversions/delete/{version.id}", {}, form_url=LIST)
    assert reloaded(db, version.id) is None
