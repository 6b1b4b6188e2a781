"""Issue 10, part C: consent that only its owner can give.

A marketing tick on the public inquiry form counts only once the address confirms the
signed, expiring link mailed to it (double opt-in); an objection still blocks it; the
public form answers the same whatever the address's history.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Client, ConsentAction, ConsentMethod, ConsentPurpose, Inquiry, MailMessage
from app.privacy.consent import withdrawal
from tests.consent_support import (
    confirmation_path,
    form_path,
    records,
    send_inquiry,
    visitor,
)
from tests.factories import make_client, new_email
from tests.queue_support import run_queue
from tests.web_support import token_from

A, B = "north-motors", "south-cars"

pytestmark = pytest.mark.usefixtures("policy")  # a privacy notice in force
NONCE = re.compile(r'nonce-[A-Za-z0-9_-]+|nonce="[^"]*"')
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(value=")[^"]+("[^>]*name="csrf_token")')


def withdrawn_client(db, dealer_id: int) -> Client:
    client = make_client(db, dealer_id, consent_given=True)
    withdrawal.withdraw(db.session, client.dealer, [client], method=ConsentMethod.public_page, source=f"/d/{A}/marketing")
    db.session.commit()
    return client


def objected_client(db, dealer_id: int) -> Client:
    client = make_client(db, dealer_id, consent_given=True)
    withdrawal.record_objection(db.session, [client], source="privacy_request:TEST")
    db.session.commit()
    return client


def marketing(db, client_id: int) -> tuple[bool, list]:
    db.session.expire_all()
    entries = records(db, client_id=client_id, purpose=ConsentPurpose.marketing)
    return db.session.get(Client, client_id).marketing_consent, [(r.action, r.method) for r in entries]


def confirmations_to(db, address: str) -> list[MailMessage]:
    db.session.expire_all()
    return db.session.scalars(
        select(MailMessage).where(MailMessage.kind == "marketing_confirmation", MailMessage.to_address == address)
    ).all()


def test_nobody_but_the_address_can_switch_a_withdrawn_clients_consent_back_on(app, db, dealer_ids, smtp):
    run_queue(app)  # what earlier tests left
    target = withdrawn_client(db, dealer_ids[A])
    before = marketing(db, target.id)
    assert before == (False, [(ConsentAction.given, ConsentMethod.staff), (ConsentAction.withdrawn, ConsentMethod.public_page)])

    # Someone else posts the public form with the client's address, in German.
    stranger = visitor(app)
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    response, _ = send_inquiry(stranger, marketing=True, email=target.email)
    assert response.status_code == 200
    assert marketing(db, target.id) == before  # nothing changed by the tick

    # The address is asked, in the visitor's language, through the real queue and SMTP.
    path = confirmation_path(db, target.email)
    run_queue(app)
    (mail,) = smtp.collector.to(target.email)
    assert mail["Content-Language"] == "de"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert path in text and "North" in mail["Subject"]
    # Emptied once sent: the outbox keeps no copy of the address.
    assert confirmations_to(db, target.email) == []

    # Opening the link changes nothing; the owner's POST gives the consent.
    owner = visitor(app)
    page = owner.get(path)
    assert page.status_code == 200 and page.headers["X-Robots-Tag"] == "noindex"
    assert "Yes, send me offers" in owner.get(path + "?_l_=en").get_data(as_text=True)
    assert marketing(db, target.id) == before
    done = owner.post(path, data={"csrf_token": token_from(page.get_data(as_text=True))})
    assert done.status_code == 200
    consented, entries = marketing(db, target.id)
    assert consented is True
    assert entries[-1] == (ConsentAction.given, ConsentMethod.double_opt_in)
    [given] = records(db, client_id=target.id, method=ConsentMethod.double_opt_in)
    inquiry = db.session.get(Inquiry, given.inquiry_id)
    assert inquiry.email == target.email and inquiry.client_id == target.id
    assert given.source == form_path(A) and given.recorded_at >= inquiry.received_at


def test_the_inquiry_page_answers_the_same_whatever_the_addresss_history(app, db, dealer_ids):
    addresses = {
        "new": new_email(),
        "client": make_client(db, dealer_ids[A]).email,
        "subscriber": make_client(db, dealer_ids[A], consent_given=True).email,
        "withdrawn": withdrawn_client(db, dealer_ids[A]).email,
        "objected": objected_client(db, dealer_ids[A]).email,
    }
    answers = {}
    for history, address in addresses.items():
        response, _ = send_inquiry(visitor(app), marketing=True, email=address)
        body = CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(2)) + "TOKEN" + (m.group(3) or ""), response.get_data(as_text=True))
        body = NONCE.sub("nonce-NONCE", body)  # a fresh script nonce on every response
        headers = sorted(
            (k, NONCE.sub("nonce-NONCE", v))
            for k, v in response.headers.items()
            if k.lower() not in ("set-cookie", "content-length", "date", "x-request-id")
        )
        answers[history] = (response.status_code, body, headers)
    first = answers["new"]
    assert first[0] == 200
    for history, answer in answers.items():
        assert answer == first, f"the page differs for: {history}"
    # Yet the inquiry is recorded for each, and the objector is sent no link.
    for address in addresses.values():
        assert db.session.scalars(select(Inquiry).where(Inquiry.email == address)).all()
    assert confirmations_to(db, addresses["objected"]) == []
    assert all(confirmations_to(db, addresses[h]) for h in ("new", "client", "subscriber", "withdrawn"))


def test_an_objection_still_blocks_a_confirmation(app, db, dealer_ids):
    target = make_client(db, dealer_ids[A])
    send_inquiry(visitor(app), marketing=True, email=target.email)
    path = confirmation_path(db, target.email)
    withdrawal.record_objection(db.session, [db.session.get(Client, target.id)], source="privacy_request:TEST")
    db.session.commit()
    before = marketing(db, target.id)

    owner = visitor(app)
    page = owner.get(path)
    done = owner.post(path, data={"csrf_token": token_from(page.get_data(as_text=True))})
    assert done.status_code == 200 and "objected to direct marketing" in done.get_data(as_text=True)
    assert marketing(db, target.id) == before and before[0] is False


def test_the_confirmation_link_is_signed_bound_expiring_and_single_use(app, db, dealer_ids):
    _, data = send_inquiry(visitor(app), marketing=True)
    path = confirmation_path(db, data["email"])
    client = visitor(app)

    token = path.rsplit("/", 1)[1]
    for bad in (path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"), path.replace(f"/d/{A}/", f"/d/{B}/")):
        assert client.get(bad).status_code == 404
    page = client.get(path)
    csrf = token_from(page.get_data(as_text=True))
    assert client.post(path).status_code == 400  # the POST needs its CSRF token
    assert records(db, email=data["email"], purpose=ConsentPurpose.marketing) == []

    saved = app.config["MARKETING_CONFIRMATION_TTL"]
    app.config["MARKETING_CONFIRMATION_TTL"] = timedelta(seconds=-1)
    try:
        assert client.get(path).status_code == 410
        assert client.post(path, data={"csrf_token": csrf}).status_code == 410
    finally:
        app.config["MARKETING_CONFIRMATION_TTL"] = saved
    assert records(db, email=data["email"], purpose=ConsentPurpose.marketing) == []

    # A link made for another address does not confirm this inquiry.
    from app.privacy.consent.opt_in import make_token

    inquiry = db.session.scalars(select(Inquiry).where(Inquiry.email == data["email"])).one()
    with app.test_request_context("/"):
        forged = make_token(dealer_ids[A], inquiry.id, new_email(), "en", form_path(A))
    assert client.get(f"/d/{A}/marketing/confirm/{forged}").status_code == 410
    assert token != forged

    for _ in range(2):  # twice: one record
        assert client.post(path, data={"csrf_token": csrf}).status_code == 200
    assert len(records(db, email=data["email"], purpose=ConsentPurpose.marketing)) == 1
