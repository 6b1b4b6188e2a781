"""The breach register: the 72-hour countdown, the rules of the Art. 33 record (a broken
one changes nothing, through the service and the form), telling the affected dealers'
admins exactly once, and who may see the register at all."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import DomainError
from app.models import Breach, BreachDealerNotice, BreachStatus, Dealer, MailMessage
from app.models.base import utcnow
from app.privacy.transparency import breaches
from config import DEMO_PASSWORD
from tests.privacy_support import user_id

LIST, ADD = "/breachview/list/", "/breachview/add"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
FORM_TIME = "%Y-%m-%d %H:%M:%S"


def breach_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Breach))


def new_breach(db, aware: datetime, **values) -> Breach:
    values = {"title": f"Lost laptop {uuid.uuid4().hex[:6]}", "nature": "A laptop with an export was stolen.", **values}
    breach = breaches.record_breach(
        db.session, actor_id=user_id(db, "privacy"), now=values.pop("now", utcnow()), became_aware_at=aware, **values
    )
    db.session.commit()
    return breach


def mails_about(db, breach: Breach) -> list[MailMessage]:
    db.session.expire_all()
    query = select(MailMessage).where(MailMessage.kind == "breach_dealer_notice", MailMessage.subject.contains(breach.reference))
    return list(db.session.scalars(query.order_by(MailMessage.id)))


# -- the 72 hours ----------------------------------------------------------------------


def test_the_countdown_runs_72_hours_from_becoming_aware(db):
    breach = new_breach(db, T0, now=T0 + timedelta(hours=1))
    assert breaches.notice_deadline(breach) == T0 + timedelta(hours=72)
    assert breaches.countdown(breach, T0 + timedelta(hours=47)) == (breaches.OPEN, timedelta(hours=25))
    assert breaches.countdown(breach, T0 + timedelta(hours=71)) == (breaches.DUE_SOON, timedelta(hours=1))
    assert breaches.countdown(breach, T0 + timedelta(hours=72)) == (breaches.OVERDUE, timedelta(0))
    assert breaches.countdown(breach, T0 + timedelta(hours=73)) == (breaches.OVERDUE, timedelta(hours=-1))

    breach.authority_notified_at = T0 + timedelta(hours=70)
    breaches.prepare(db.session, breach, now=T0 + timedelta(hours=73))
    db.session.commit()
    assert breach.status is BreachStatus.notified  # telling the authority is what "notified" means
    assert breaches.countdown(breach, T0 + timedelta(hours=500)) == (breaches.NOTIFIED, None)

    quiet = new_breach(db, T0, status=BreachStatus.not_notifiable, not_notifiable_reason="Encrypted disk; key not lost.", now=T0)
    assert breaches.countdown(quiet, T0 + timedelta(hours=100)) == (breaches.NOT_NOTIFIABLE, None)


def test_the_list_shows_each_breachs_countdown(login, db):
    now = utcnow()
    soon = new_breach(db, now - timedelta(hours=70))
    late = new_breach(db, now - timedelta(hours=77))
    told = new_breach(
        db, now - timedelta(hours=90), authority_notified_at=now - timedelta(hours=80), delay_reason="Weekend; the scope was unclear."
    )
    html = login("privacy").get(LIST).get_data(as_text=True)

    def badge(breach):
        row = next(r for r in html.split("<tr") if breach.reference in r)
        return re.search(r'breach-countdown breach-(\w+)"[^>]*>([^<]+)<', row).groups()

    assert badge(soon) == ("due_soon", "1 h left")
    assert badge(late) == ("overdue", "overdue by 5 h")
    assert badge(told) == ("notified", "notified")


# -- the rules -------------------------------------------------------------------------


BAD = [
    ({"became_aware_at": T0 + timedelta(days=11)}, "became_aware_at"),
    ({"occurred_from": T0 - timedelta(hours=2), "occurred_until": T0 - timedelta(hours=3)}, "occurred_until"),
    ({"authority_notified_at": T0 - timedelta(minutes=1)}, "authority_notified_at"),
    ({"authority_notified_at": T0 + timedelta(hours=73)}, "delay_reason"),
    ({"status": BreachStatus.notified}, "authority_notified_at"),
    ({"status": BreachStatus.not_notifiable, "not_notifiable_reason": "  "}, "not_notifiable_reason"),
    ({"approx_subjects": -1}, "approx_subjects"),
    ({"approx_records": -5}, "approx_records"),
    ({"subjects_informed_at": T0 - timedelta(hours=1)}, "subjects_informed_at"),
]


@pytest.mark.parametrize("values,field", BAD)
def test_a_broken_rule_names_its_field_and_records_nothing(db, values, field):
    before = breach_count(db)
    values = {"became_aware_at": T0, **values}
    with pytest.raises(DomainError) as raised:
        breaches.record_breach(db.session, now=T0 + timedelta(days=10), title="Bad", nature="Bad", **values)
    db.session.rollback()
    assert raised.value.field == field
    assert breach_count(db) == before


def test_a_late_notice_with_its_reasons_is_accepted_and_references_count_up(db):
    now = T0 + timedelta(days=5)
    first = breaches.record_breach(
        db.session,
        now=now,
        title="Late",
        nature="n",
        became_aware_at=T0,
        authority_notified_at=T0 + timedelta(hours=90),
        delay_reason="Forensics took four days.",
    )
    second = breaches.record_breach(db.session, now=now, title="Next", nature="n", became_aware_at=T0)
    db.session.commit()
    year = now.year
    assert re.fullmatch(rf"BR-{year}-\d{{3}}", first.reference)
    assert int(second.reference.rsplit("-", 1)[1]) == int(first.reference.rsplit("-", 1)[1]) + 1
    assert first.status is BreachStatus.notified and second.status is BreachStatus.open


def _form(**overrides) -> dict:
    aware = (utcnow() - timedelta(hours=5)).strftime(FORM_TIME)
    form = {
        "title": f"Mis-sent export {uuid.uuid4().hex[:6]}",
        "became_aware_at": aware,
        "occurred_from": "",
        "occurred_until": "",
        "nature": "An export went to the wrong address.",
        "subject_categories": "dealers' clients",
        "approx_subjects": "12",
        "record_categories": "contact details",
        "approx_records": "40",
        "contact_point": "",
        "likely_consequences": "Spam.",
        "measures_taken": "Asked the recipient to delete it.",
        "status": "open",
        "authority_notified_at": "",
        "authority_reference": "",
        "delay_reason": "",
        "not_notifiable_reason": "",
        "subjects_informed_at": "",
    }
    form.update(overrides)
    return form


def test_the_add_form_shows_the_error_at_its_field_and_saves_nothing(login, db):
    officer = login("privacy")
    before = breach_count(db)
    start = (utcnow() - timedelta(hours=3)).strftime(FORM_TIME)
    end = (utcnow() - timedelta(hours=4)).strftime(FORM_TIME)
    response = officer.post_form(ADD, _form(occurred_from=start, occurred_until=end))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The breach cannot end before it started." in html
    assert breach_count(db) == before

    response = officer.post_form(ADD, _form(status="not_notifiable"))
    assert "Explain why the breach is unlikely to result in a risk to people" in response.get_data(as_text=True)
    assert breach_count(db) == before

    good = _form()
    response = officer.post_form(ADD, good)
    assert response.status_code == 302
    assert breach_count(db) == before + 1
    saved = db.session.scalar(select(Breach).where(Breach.title == good["title"]))
    assert saved.recorded_by_id == user_id(db, "privacy") and saved.approx_records == 40
    assert saved.became_aware_at == datetime.strptime(good["became_aware_at"], FORM_TIME).replace(tzinfo=UTC)


def test_the_edit_form_refuses_a_broken_rule_and_changes_nothing(login, db):
    breach = new_breach(db, utcnow() - timedelta(hours=10))
    officer = login("privacy")
    url = f"/breachview/edit/{breach.id}"
    edit_page = officer.get(url).get_data(as_text=True)
    assert breach.became_aware_at.strftime(FORM_TIME) in edit_page  # typed and shown in the user's zone (UTC)

    aware = breach.became_aware_at.strftime(FORM_TIME)
    late = (breach.became_aware_at + timedelta(hours=1)).strftime(FORM_TIME)
    bad = _form(title=breach.title, became_aware_at=aware, status="notified", authority_notified_at="", approx_subjects="-3")
    html = officer.post_form(url, bad).get_data(as_text=True)
    assert "Enter when the authority was told." in html and "Enter zero or more." in html
    db.session.expire_all()
    unchanged = db.session.get(Breach, breach.id)
    assert (unchanged.status, unchanged.approx_subjects, unchanged.authority_notified_at) == (BreachStatus.open, None, None)

    response = officer.post_form(
        url, _form(title=breach.title, became_aware_at=aware, authority_notified_at=late, authority_reference="LDA-7")
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Breach, breach.id)
    assert changed.status is BreachStatus.notified and changed.authority_reference == "LDA-7"
    assert changed.reference == breach.reference


# -- telling the dealers ---------------------------------------------------------------


@pytest.fixture
def affected(app, db):
    """Three fresh dealers: one with two active admins (one reads Ukrainian), a staff user
    and a deactivated admin; one with no users but an address; one nobody can reach."""
    from app.provisioning import create_user

    tag = uuid.uuid4().hex[:6]
    dealers = [
        Dealer(slug=f"br-{tag}-{n}", business_name=f"Breach Cars {tag} {n}", country="DE", email=email)
        for n, email in ((1, None), (2, f"office-{tag}@example.org"), (3, None))
    ]
    db.session.add_all(dealers)
    db.session.commit()

    def user(name, role, language=None):
        return create_user(
            f"{name}-{tag}", DEMO_PASSWORD, f"{name}-{tag}@example.org", role, dealers[0].slug, language=language, check_policy=False
        )

    admins = [user("boss", "DealerAdmin"), user("chef", "DealerAdmin", "uk")]
    user("clerk", "DealerStaff")
    gone = user("gone", "DealerAdmin")
    gone.active, gone.deactivated_at = False, utcnow()
    db.session.commit()
    return dealers, admins


def test_telling_dealers_mails_their_active_admins_once_in_their_language(db, affected):
    (first, second, third), (boss, chef) = affected
    breach = new_breach(
        db, utcnow() - timedelta(hours=2), subject_categories="clients", approx_subjects=30, measures_taken="Passwords reset."
    )
    officer = user_id(db, "privacy")

    result = breaches.notify_dealers(db.session, breach.id, [first.id, second.id, third.id], officer)
    db.session.commit()
    assert (result.told, result.already_told, result.unreachable, result.messages) == ([first.id, second.id], [], [third.id], 3)
    mails = mails_about(db, breach)
    assert sorted((m.to_address, m.language) for m in mails) == sorted([(boss.email, "en"), (chef.email, "uk"), (second.email, "en")])
    english = next(m for m in mails if m.to_address == boss.email)
    for fact in (breach.reference, breach.title, breach.nature, "clients", "30", "Passwords reset.", "privacy@"):
        assert fact in english.body_text

    notices = {n.dealer_id: n for n in db.session.scalars(select(BreachDealerNotice).where(BreachDealerNotice.breach_id == breach.id))}
    assert notices[first.id].notified_at is not None and notices[first.id].notified_by_id == officer
    assert notices[third.id].notified_at is None  # affected, nobody told yet

    again = breaches.notify_dealers(db.session, breach.id, [first.id, second.id], officer)
    db.session.commit()
    assert (again.told, again.already_told, again.messages) == ([], [first.id, second.id], 0)
    assert len(mails_about(db, breach)) == 3


def test_the_breach_page_tells_the_chosen_dealers_and_lists_them(login, db, affected):
    (first, second, _third), _admins = affected
    breach = new_breach(db, utcnow() - timedelta(hours=2))
    officer = login("privacy")
    show = f"/breachview/show/{breach.id}"
    page = officer.get(show)
    assert page.status_code == 200 and "Tell dealers" in page.get_data(as_text=True)

    response = officer.post_form(f"/breachview/tell/{breach.id}", {"dealers": [str(first.id)]}, form_url=show, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "1 dealer(s) told: 2 e-mail(s) queued." in html
    assert first.business_name in html and second.business_name not in html.split('id="breach-notices"')[1].split("</table>")[0]
    assert len(mails_about(db, breach)) == 2

    response = officer.post_form(f"/breachview/tell/{breach.id}", {"dealers": [str(first.id)]}, form_url=show, follow_redirects=True)
    assert "1 dealer(s) had already been told" in response.get_data(as_text=True)
    assert len(mails_about(db, breach)) == 2

    nothing = officer.post_form(f"/breachview/tell/{breach.id}", {}, form_url=show)
    assert nothing.status_code == 422 and "Choose at least one dealer." in nothing.get_data(as_text=True)


# -- who sees the register -------------------------------------------------------------


@pytest.mark.parametrize(
    "username,allowed",
    [
        ("privacy", True),
        ("admin", True),
        ("staff", False),
        ("north-motors-admin", False),
        ("north-motors-staff", False),
    ],
)
def test_only_the_privacy_officer_and_admin_reach_the_register(login, db, username, allowed):
    breach = new_breach(db, utcnow() - timedelta(hours=1))
    browser = login(username)
    for url in (LIST, ADD, f"/breachview/show/{breach.id}", f"/breachview/edit/{breach.id}"):
        status = browser.get(url).status_code
        assert status == 200 if allowed else status in (403, 404), (url, status)
    if not allowed:
        token_page = "/carmodelview/list/" if username.startswith("north") else "/dealermodelview/list/"
        told = browser.post_form(f"/breachview/tell/{breach.id}", {"dealers": ["1"]}, form_url=token_page)
        assert told.status_code in (403, 404)
        assert mails_about(db, breach) == []
        menu = browser.get(token_page).get_data(as_text=True)
        assert "Breach register" not in menu


def test_anonymous_visitors_are_sent_to_sign_in(app):
    response = app.test_client().get(LIST)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
