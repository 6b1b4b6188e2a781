"""Breaches (issue 11, item 8): the privacy officers are reminded as the 72 hours of
Art. 33(1) run down, once per threshold; the people affected are told (Art. 34) in their
language from the breach page, and the notice is recorded on the breach."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import DomainError
from app.models import Breach, BreachReminder, BreachStatus, BreachSubjectNotice, Client, MailMessage
from app.models.base import utcnow
from app.privacy.transparency import breach_reminders, breach_subjects, breaches
from app.security import DealerUser
from tests.factories import make_client, new_dealer, new_email, new_user
from tests.privacy_support import file_access, user_id

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REMINDER, NOTICE = breach_reminders.MAIL_KIND, breach_subjects.MAIL_KIND


def new_breach(db, aware: datetime, now: datetime, **values) -> Breach:
    values = {"title": f"Stolen laptop {uuid.uuid4().hex[:6]}", "nature": "A laptop with a client export was stolen.", **values}
    breach = breaches.record_breach(db.session, actor_id=user_id(db, "privacy"), now=now, became_aware_at=aware, **values)
    db.session.commit()
    return breach


def mails(db, breach: Breach, kind: str) -> list[MailMessage]:
    db.session.expire_all()
    query = select(MailMessage).where(MailMessage.kind == kind, MailMessage.subject.contains(breach.reference))
    return list(db.session.scalars(query.order_by(MailMessage.id)))


def officers(app, db) -> set[tuple[str, str]]:
    """Every active privacy officer in their language, and the configured address."""
    query = select(DealerUser).where(DealerUser.active.is_(True), DealerUser.deactivated_at.is_(None), DealerUser.anonymised_at.is_(None))
    found = {
        user.email.lower(): (user.email, user.preferred_language or "en")
        for user in db.session.scalars(query)
        if user.email and any(role.name == "PrivacyOfficer" for role in user.roles)
    }
    found.setdefault(app.config["PRIVACY_OFFICER_EMAIL"].lower(), (app.config["PRIVACY_OFFICER_EMAIL"], "en"))
    return set(found.values())


def remind(db, breach: Breach, at: datetime) -> str | None:
    """One hourly run at ``at``; what it sent about this breach."""
    return breach_reminders.send_deadline_reminders(db.session, now=at).get(breach.reference)


def sent(db, breach: Breach) -> list[tuple[str, str]]:
    return [(m.to_address, m.language) for m in mails(db, breach, REMINDER)]


# -- reminders -------------------------------------------------------------------------


def test_the_privacy_officer_is_reminded_as_the_72_hours_run_down(app, db):
    new_user("PrivacyOfficer", language="uk")  # a second officer, who reads Ukrainian
    expected = officers(app, db)
    assert ("privacy@forecourt.example", "en") in expected and any(language == "uk" for _, language in expected)
    breach = new_breach(db, T0, now=T0)

    steps = [
        (T0 + timedelta(hours=23), None),  # 49 h left: not yet
        (T0 + timedelta(hours=24), "48h"),
        (T0 + timedelta(hours=47), None),
        (T0 + timedelta(hours=48), "24h"),
        (T0 + timedelta(hours=66), "6h"),
        (T0 + timedelta(hours=71), None),
        (T0 + timedelta(hours=72), "overdue"),
        (T0 + timedelta(hours=90), None),
    ]
    count = 0
    for at, threshold in steps:
        assert remind(db, breach, at) == threshold, at
        count += len(expected) if threshold else 0
        assert len(sent(db, breach)) == count, at
        if threshold:
            latest = mails(db, breach, REMINDER)[-len(expected) :]
            assert {(m.to_address, m.language) for m in latest} == expected

    reminders = db.session.scalars(select(BreachReminder).where(BreachReminder.breach_id == breach.id).order_by(BreachReminder.id))
    assert [(r.threshold, r.deadline, r.recipients) for r in reminders] == [
        (name, T0 + timedelta(hours=72), len(expected)) for name in ("48h", "24h", "6h", "overdue")
    ]
    english = [m for m in mails(db, breach, REMINDER) if m.to_address == "privacy@forecourt.example"]
    assert [m.subject for m in english] == [
        f"Breach {breach.reference}: 48 h left to report it to the supervisory authority",
        f"Breach {breach.reference}: 24 h left to report it to the supervisory authority",
        f"Breach {breach.reference}: 6 h left to report it to the supervisory authority",
        f"Overdue: breach {breach.reference} had to be reported to the supervisory authority by Mar 5, 2026, 9:30:00 AM",  # DEFAULT_TIMEZONE
    ]
    assert breach.title in english[0].body_text and f"/breachview/show/{breach.id}" in english[0].body_text
    assert "give the reasons for the delay" in english[-1].body_text


def test_the_cron_reminds_hourly(app):
    from jobs.worker import build_cron

    with app.app_context():
        entries = {job.name: job for job in build_cron(app).get_jobs()}
    assert entries["breach-deadline-reminders"].cron == "12 * * * *"
    assert entries["breach-deadline-reminders"].func_name == "jobs.breaches.remind_breach_deadlines"


def test_a_reminder_is_not_sent_twice(app, db):
    expected = officers(app, db)
    breach = new_breach(db, T0, now=T0)
    assert remind(db, breach, T0 + timedelta(hours=50)) == "24h"  # the first run: 22 h left
    assert remind(db, breach, T0 + timedelta(hours=50)) is None  # the same hour again
    assert remind(db, breach, T0 + timedelta(hours=51)) is None
    assert len(sent(db, breach)) == len(expected)
    # The 48-hour threshold passed while no run happened: it is not sent late.
    assert remind(db, breach, T0 + timedelta(hours=52)) is None
    assert [r.threshold for r in breach_reminders_of(db, breach)] == ["24h"]

    # A corrected time of becoming aware is a new deadline: its clock starts over.
    breach.became_aware_at = T0 + timedelta(hours=30)
    db.session.commit()
    assert remind(db, breach, T0 + timedelta(hours=54)) == "48h"
    assert remind(db, breach, T0 + timedelta(hours=54)) is None
    assert len(sent(db, breach)) == 2 * len(expected)


def breach_reminders_of(db, breach: Breach) -> list[BreachReminder]:
    db.session.expire_all()
    return list(db.session.scalars(select(BreachReminder).where(BreachReminder.breach_id == breach.id).order_by(BreachReminder.id)))


def test_no_reminder_after_the_authority_was_notified(app, db):
    told = new_breach(db, T0, now=T0 + timedelta(hours=10), authority_notified_at=T0 + timedelta(hours=10))
    quiet = new_breach(
        db, T0, now=T0, status=BreachStatus.not_notifiable, not_notifiable_reason="The disk was encrypted and the key is safe."
    )
    later = new_breach(db, T0, now=T0)
    assert remind(db, later, T0 + timedelta(hours=48)) == "24h"
    later.authority_notified_at = T0 + timedelta(hours=49)
    breaches.prepare(db.session, later, now=T0 + timedelta(hours=49))
    db.session.commit()

    for hours in (24, 48, 66, 72, 100):
        for breach in (told, quiet, later):
            assert remind(db, breach, T0 + timedelta(hours=hours)) is None
    assert (sent(db, told), sent(db, quiet)) == ([], [])
    assert len(sent(db, later)) == len(officers(app, db))  # only the one before the notice


# -- telling the people affected (Art. 34) ---------------------------------------------

TEXTS = {
    "nature": "A laptop with your name and phone number was stolen from our office.",
    "likely_consequences": "You may get calls from people pretending to be the dealer.",
    "measures_taken": "We reported the theft to the police. Do not give anyone your bank details on the phone.",
    "contact_point": "dpo@forecourt.example",
}


@pytest.fixture
def people(app, db):
    """Two dealers: a German one with a client who once wrote to us in Ukrainian, a client
    we know no language of, a client without an address, the stand-in of an erased buyer,
    an admin reading Ukrainian and a staff user; and a British one whose client is also
    the German dealer's Ukrainian client."""
    german, british = new_dealer(db, country="DE"), new_dealer(db, country="GB")
    ukrainian, unknown, shared_local = new_email("olena"), new_email("jonas"), new_email("ann")
    make_client(db, german.id, ukrainian)
    make_client(db, german.id, unknown)
    no_address = make_client(db, german.id)
    no_address.email = None
    placeholder = make_client(db, german.id)
    placeholder.is_erasure_placeholder = True
    make_client(db, british.id, ukrainian.upper())  # the same person, written differently
    make_client(db, british.id, shared_local)
    db.session.commit()
    file_access(db, ukrainian, german.id, language="uk")
    admin = new_user("DealerAdmin", german.slug, language="uk")
    staff = new_user("DealerStaff", german.slug)
    db.session.commit()
    return {
        "german": german,
        "british": british,
        "ukrainian": ukrainian,
        "unknown": unknown,
        "shared_local": shared_local,
        "admin": admin,
        "staff": staff,
    }


def notify(db, breach: Breach, **values):
    values = {"token": uuid.uuid4().hex, **TEXTS, **values}
    result = breach_subjects.notify_subjects(db.session, breach.id, actor_id=user_id(db, "privacy"), **values)
    db.session.commit()
    return result


def told(db, breach: Breach) -> set[tuple[str, str]]:
    return {(m.to_address, m.language) for m in mails(db, breach, NOTICE)}


def test_affected_people_are_told_in_their_language(app, db, people):
    breach = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    dealers = [people["german"].id, people["british"].id]
    result = notify(db, breach, audience="clients", dealer_ids=dealers)
    assert (result.people, result.already_sent) == (3, False)
    assert told(db, breach) == {(people["ukrainian"], "uk"), (people["unknown"], "de"), (people["shared_local"], "en")}
    letter = next(m for m in mails(db, breach, NOTICE) if m.to_address == people["ukrainian"])
    assert people["german"].business_name in letter.body_text and people["british"].business_name in letter.body_text
    english = next(m for m in mails(db, breach, NOTICE) if m.to_address == people["shared_local"])
    for text in TEXTS.values():
        assert text in english.body_text
    assert english.subject == f"Important: a personal data breach concerning your data ({breach.reference})"

    users = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    notify(db, users, audience="users", dealer_ids=[people["german"].id])
    assert told(db, users) == {(people["admin"].email, "uk"), (people["staff"].email, "en")}

    typed = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    first, second = new_email("typed"), new_email("typed")
    notify(db, typed, audience="addresses", addresses=f"{first}\n{second.upper()}, {first}", language="de")
    assert told(db, typed) == {(first, "de"), (second, "de")}


def test_the_art34_notice_is_recorded_on_the_breach(app, db, login, people):
    breach = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    officer = login("privacy")
    show = f"/breachview/show/{breach.id}"
    page = officer.get(show).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="token"', page)
    token = token.group(1) or token.group(2)
    form = {"token": token, "audience": "clients", "subject_dealers": [str(people["german"].id)], "language": "en", **TEXTS}

    response = officer.post_form(f"/breachview/tell-subjects/{breach.id}", form, form_url=show, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 people affected told: one e-mail each, in their language." in html
    assert len(mails(db, breach, NOTICE)) == 2

    # The same form again (a double click, the back button): nothing is sent again.
    again = officer.post_form(f"/breachview/tell-subjects/{breach.id}", form, form_url=show, follow_redirects=True)
    assert "This notice had already been sent; nothing was sent again." in again.get_data(as_text=True)
    assert len(mails(db, breach, NOTICE)) == 2

    db.session.expire_all()
    recorded = db.session.scalars(select(BreachSubjectNotice).where(BreachSubjectNotice.breach_id == breach.id)).all()
    assert [(n.audience, n.dealer_ids, n.recipients, n.sent_by_id, n.token) for n in recorded] == [
        ("clients", str(people["german"].id), 2, user_id(db, "privacy"), token)
    ]
    notice = recorded[0]
    assert (notice.nature, notice.likely_consequences, notice.measures_taken, notice.contact_point) == tuple(TEXTS.values())
    assert db.session.get(Breach, breach.id).subjects_informed_at == notice.sent_at
    listed = again.get_data(as_text=True).split('id="breach-subject-notices"')[1].split("</table>")[0]
    assert people["german"].business_name in listed and '<td class="breach-subject-count">2</td>' in listed


BAD_FORMS = [
    ({"audience": ""}, "audience", "Choose whom to tell."),
    ({"audience": "everyone"}, "audience", "Choose whom to tell."),
    ({"subject_dealers": []}, "subject_dealers", "Choose at least one dealer."),
    ({"subject_dealers": ["999999999"]}, "subject_dealers", None),  # not one of the offered dealers
    ({"nature": "   "}, "nature", "Describe this in plain language for the people affected (Art. 34(2))."),
    ({"likely_consequences": ""}, "likely_consequences", "Describe this in plain language for the people affected (Art. 34(2))."),
    ({"measures_taken": ""}, "measures_taken", "Describe this in plain language for the people affected (Art. 34(2))."),
    ({"contact_point": ""}, "contact_point", "Enter whom people can contact for more information (Art. 33(3)(b))."),
    ({"contact_point": "x" * 301}, "contact_point", "Enter at most 300 characters."),
    ({"audience": "addresses", "addresses": ""}, "addresses", "Enter at least one e-mail address."),
    (
        {"audience": "addresses", "addresses": "ok@example.org, not-an-address"},
        "addresses",
        "These are not e-mail addresses: not-an-address",
    ),
    ({"audience": "addresses", "addresses": "ok@example.org", "language": "xx"}, "language", "Choose one of the offered languages."),
    ({"token": ""}, None, "The form has expired. Reload the page and try again."),
]


@pytest.mark.parametrize("changes,field,message", BAD_FORMS)
def test_the_art34_form_refuses_bad_input_and_changes_nothing(app, db, login, people, changes, field, message):
    breach = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    officer = login("privacy")
    show = f"/breachview/show/{breach.id}"
    form = {
        "token": uuid.uuid4().hex,
        "audience": "clients",
        "subject_dealers": [str(people["german"].id)],
        "language": "en",
        **TEXTS,
        **changes,
    }
    response = officer.post_form(f"/breachview/tell-subjects/{breach.id}", form, form_url=show)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    if message is not None:
        assert message in html
    if field is not None:
        assert re.search(rf'has-error">\s*<label[^>]*for="{field}"', html) or (
            field == "audience" and 'form-group has-error">\n        <label class="control-label">Whom to tell' in html
        ), field
    assert mails(db, breach, NOTICE) == []
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(BreachSubjectNotice).where(BreachSubjectNotice.breach_id == breach.id))
    assert (count, db.session.get(Breach, breach.id).subjects_informed_at) == (0, None)


def test_nobody_to_tell_is_refused_and_recorded_nowhere(db):
    empty = new_dealer(db)
    breach = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    with pytest.raises(DomainError) as refused:
        notify(db, breach, audience="clients", dealer_ids=[empty.id])
    db.session.rollback()
    assert refused.value.field == "dealers"
    assert (db.session.scalars(select(BreachSubjectNotice).where(BreachSubjectNotice.breach_id == breach.id)).all(), told(db, breach)) == (
        [],
        set(),
    )


@pytest.mark.parametrize("username", ["staff", "north-motors-admin", "north-motors-staff"])
def test_only_the_privacy_officer_tells_the_people_affected(app, db, login, people, username):
    breach = new_breach(db, utcnow() - timedelta(hours=30), now=utcnow())
    browser = login(username)
    token_page = "/carmodelview/list/" if username.startswith("north") else "/dealermodelview/list/"
    form = {"token": uuid.uuid4().hex, "audience": "clients", "subject_dealers": [str(people["german"].id)], **TEXTS}
    response = browser.post_form(f"/breachview/tell-subjects/{breach.id}", form, form_url=token_page)
    assert response.status_code in (403, 404)
    assert mails(db, breach, NOTICE) == []
    assert db.session.scalar(select(func.count()).select_from(Client).where(Client.dealer_id == people["german"].id)) == 4
