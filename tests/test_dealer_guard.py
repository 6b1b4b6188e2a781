"""A terminated dealer is frozen (a flush-time rule), and no dealer is ever hard-deleted:
not through a form, the REST API or the session. The lifecycle steps still run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain import DomainError
from app.models import Dealer, DealerStatus
from app.models.base import utcnow
from app.privacy.lifecycle import account_deletion, records, termination
from tests.factories import make_account


def _terminated(db, days_ago: int = 0):
    a = make_account(db)
    termination.terminate_dealer(db.session, a.dealer_id, None, "Unpaid invoices", now=utcnow() - timedelta(days=days_ago))
    db.session.commit()
    return a


def _profile(db, dealer_id: int) -> tuple:
    db.session.expire_all()
    dealer = db.session.get(Dealer, dealer_id)
    return dealer.slug, dealer.business_name, dealer.email, dealer.city, dealer.status


def test_the_api_refuses_to_change_a_terminated_dealer(db, api):
    a = _terminated(db)
    before = _profile(db, a.dealer_id)
    staff = api("staff")
    response = staff.put(f"/api/v1/dealer/{a.dealer_id}", json={"city": "Hamburg", "email": "back@acct.example"})
    assert response.status_code == 422
    assert "terminated dealer account cannot be changed" in response.get_data(as_text=True)
    assert _profile(db, a.dealer_id) == before
    # An active dealer is still edited through the API.
    b = make_account(db)
    assert staff.put(f"/api/v1/dealer/{b.dealer_id}", json={"city": "Hamburg"}).status_code == 200
    assert _profile(db, b.dealer_id)[3] == "Hamburg"


def test_after_day_30_the_api_cannot_put_the_profile_back(db, api):
    a = _terminated(db, days_ago=31)
    account_deletion.delete_account(db.session, a.dealer_id, as_of=utcnow())
    db.session.commit()
    before = _profile(db, a.dealer_id)
    assert before[0] == f"terminated-{a.dealer_id}" and before[2] is None
    response = api("admin").put(f"/api/v1/dealer/{a.dealer_id}", json={"slug": a.slug, "email": "office@acct.example"})
    assert response.status_code == 422
    assert _profile(db, a.dealer_id) == before
    # The three-year step still stamps the tombstone.
    records.erase_business_records(db.session, a.dealer_id, as_of=utcnow() + timedelta(days=3 * 366))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).records_erased_at is not None


def test_the_dealer_form_refuses_to_change_a_terminated_dealer(db, login):
    a = _terminated(db)
    before = _profile(db, a.dealer_id)
    staff = login("staff")
    url = f"/dealermodelview/edit/{a.dealer_id}"
    response = staff.post_form(
        url,
        {
            "slug": a.slug,
            "business_name": "Back in business",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "default_currency": "EUR",
            "inquiry_retention_months": "24",
        },
        form_url=f"/dealermodelview/show/{a.dealer_id}",
        follow_redirects=True,
    )
    assert "terminated dealer account cannot be changed" in response.get_data(as_text=True)
    assert _profile(db, a.dealer_id) == before


def test_no_one_deletes_a_dealer(db, api, login, dealer_ids):
    a = _terminated(db)
    for username in ("admin", "staff"):
        assert api(username).delete(f"/api/v1/dealer/{a.dealer_id}").status_code in (403, 405)
        assert api(username).delete(f"/api/v1/dealer/{dealer_ids['south-cars']}").status_code in (403, 405)
        browser = login(username)
        assert browser.post_form(f"/dealermodelview/delete/{a.dealer_id}", {}, form_url="/dealermodelview/list/").status_code in (
            302,
            403,
            405,
        )
        info = api(username).get("/api/v1/dealer/_info").json
        assert "can_delete" not in info["permissions"]
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id) is not None
    assert db.session.get(Dealer, dealer_ids["south-cars"]) is not None


def test_the_session_refuses_too_and_changes_nothing(db):
    a = _terminated(db)
    dealer = db.session.get(Dealer, a.dealer_id)
    dealer.status = DealerStatus.active
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    dealer = db.session.get(Dealer, a.dealer_id)
    db.session.delete(dealer)
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Dealer, a.dealer_id).status is DealerStatus.terminated
