"""Telling the people affected by a breach (GDPR Art. 34).

When a breach is likely to result in a high risk to people, they are told in clear and
plain language what happened, the likely consequences, the measures taken or proposed
and whom to contact (Art. 34(2), which refers to Art. 33(3)(b)-(d)). The privacy officer
chooses the people: the clients of chosen dealers, the chosen dealers' users, or a list
of addresses. Each person gets one e-mail in their language: a user's own, a client's
from their latest privacy request, else the dealer's country's, else the default; a typed
address in the language the officer chose. Every notice is a ``BreachSubjectNotice``
(when, how many, by whom, the text sent); the form's token makes a double submit send
nothing again. Functions take a session, ids and ``now``; callers commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.core import get_global
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import DomainError
from app.domain.contact import normalise_email
from app.i18n.languages import supported_languages
from app.mail import notices
from app.mail.audience import active_users, user_language
from app.models import Breach, BreachSubjectNotice, Client, Dealer, PrivacyRequest
from app.models.base import utcnow

MAIL_KIND = "breach_subject_notice"
CLIENTS, USERS, ADDRESSES = "clients", "users", "addresses"
AUDIENCES = (CLIENTS, USERS, ADDRESSES)
TEXT_FIELDS = ("nature", "likely_consequences", "measures_taken")
CONTACT_MAX = 300
MAX_ADDRESSES = 1000
ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class Person:
    """Whom to tell: an address, the language to write in, the dealers it is a client of."""

    address: str
    language: str
    dealers: list[str] = field(default_factory=list)


@dataclass
class SubjectNoticeResult:
    notice: BreachSubjectNotice
    people: int
    already_sent: bool = False


def notify_subjects(
    session: Session,
    breach_id: int,
    *,
    token: str,
    audience: str,
    dealer_ids: list[int] | None = None,
    addresses: str = "",
    language: str | None = None,
    nature: str = "",
    likely_consequences: str = "",
    measures_taken: str = "",
    contact_point: str = "",
    actor_id: int | None = None,
    now: datetime | None = None,
) -> SubjectNoticeResult:
    """Tell the chosen people about the breach, once per form (``token``), and record it.
    Raises ``DomainError`` naming the field (nothing sent, nothing recorded)."""
    now = now or utcnow()
    breach = session.get(Breach, breach_id)
    if breach is None:
        raise DomainError(_l("There is no such breach."))
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    earlier = session.scalars(select(BreachSubjectNotice).where(BreachSubjectNotice.token == token)).first()
    if earlier is not None:
        if earlier.breach_id != breach.id:
            raise DomainError(_l("The form has expired. Reload the page and try again."))
        return SubjectNoticeResult(earlier, earlier.recipients, already_sent=True)  # type: ignore[arg-type]
    text = {name: _text(value) for name, value in zip(TEXT_FIELDS, (nature, likely_consequences, measures_taken), strict=True)}
    contact = _text(contact_point)
    chosen = sorted({int(d) for d in dealer_ids or []})
    _check(session, text, contact, audience, chosen, addresses, language)
    people = recipients(session, audience, chosen, addresses, language)
    if not people:
        raise DomainError(
            _l("Nobody with an e-mail address was found among the people you chose: nothing was sent."),
            "addresses" if audience == ADDRESSES else "dealers",
        )
    notice = BreachSubjectNotice(
        breach_id=breach.id,
        token=token,
        audience=audience,
        dealer_ids=",".join(str(d) for d in chosen) if audience != ADDRESSES else None,
        recipients=len(people),
        contact_point=contact,
        sent_at=now,
        sent_by_id=actor_id,
        **text,
    )
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:  # the same form, submitted twice at once: the other one sends
        earlier = session.scalars(select(BreachSubjectNotice).where(BreachSubjectNotice.token == token)).one()
        return SubjectNoticeResult(earlier, earlier.recipients, already_sent=True)  # type: ignore[arg-type]
    for person in people:
        notices.queue_notice(
            session,
            MAIL_KIND,
            to=person.address,
            language=person.language,
            breach=breach,
            notice=notice,
            dealers=person.dealers,
        )
    if breach.subjects_informed_at is None:
        breach.subjects_informed_at = now
    session.flush()
    return SubjectNoticeResult(notice, len(people))


def recipients(session: Session, audience: str, dealer_ids: list[int], addresses: str = "", language: str | None = None) -> list[Person]:
    """The people chosen, one per address (lower-case), in the order found."""
    if audience == ADDRESSES:
        default = language or current_app.config["BABEL_DEFAULT_LOCALE"]
        return [Person(address, default) for address in parse_addresses(addresses)]
    dealers = {d.id: d for d in session.scalars(select(Dealer).where(Dealer.id.in_(dealer_ids)))}
    found: dict[str, Person] = {}
    if audience == USERS:
        for dealer_id in dealer_ids:
            for user in active_users(session, dealer_id=dealer_id):
                found.setdefault(user.email.lower(), Person(user.email, user_language(user)))
        return list(found.values())
    query: Select[Any] = select(Client.email, Client.dealer_id).where(
        Client.dealer_id.in_(dealer_ids),
        Client.email.is_not(None),
        Client.email != "",
        Client.is_erasure_placeholder.is_(False),
    )
    # Restricted clients are told too: a breach notice is owed to the person (Art. 34),
    # it is not the processing the restriction stops (marketing, lists, exports).
    for email, dealer_id in session.execute(query.order_by(Client.dealer_id, Client.id)):
        dealer = dealers[dealer_id]
        person = found.get(email.lower())
        if person is None:
            person = found[email.lower()] = Person(email, client_language(session, email, dealer))
        if dealer.business_name not in person.dealers:
            person.dealers.append(dealer.business_name)
    return list(found.values())


def client_language(session: Session, email: str, dealer: Dealer) -> str:
    """The language the person last wrote to us in (a privacy request), else the dealer's."""
    query: Select[Any] = (
        select(PrivacyRequest.language)
        .where(func.lower(PrivacyRequest.subject_email) == email.lower())
        .order_by(PrivacyRequest.received_at.desc(), PrivacyRequest.id.desc())
        .limit(1)
    )
    known = session.scalar(query)
    return known if known in supported_languages() else dealer_language(dealer)


def dealer_language(dealer: Dealer | None) -> str:
    """The language of the dealer's country (DE → de, UA → uk) if we write it, else the default."""
    country = (getattr(dealer, "country", None) or "").upper()
    likely = get_global("likely_subtags").get(f"und_{country}", "") if country else ""
    code = likely.split("_")[0]
    return code if code in supported_languages() else current_app.config["BABEL_DEFAULT_LOCALE"]


def parse_addresses(text: str | None) -> list[str]:
    """Addresses separated by line breaks, commas, semicolons or spaces; each once,
    normalised. Raises ``DomainError`` naming the ones that are not addresses."""
    found: dict[str, str] = {}
    wrong: list[str] = []
    for part in ADDRESS_SEPARATORS.split(text or ""):
        if not part:
            continue
        try:
            address = normalise_email(part)
        except DomainError:
            wrong.append(part)
            continue
        found.setdefault(address, address)  # type: ignore[arg-type]
    if wrong:
        raise DomainError(_l("These are not e-mail addresses: %(addresses)s", addresses=", ".join(wrong[:10])), "addresses")
    if len(found) > MAX_ADDRESSES:
        raise DomainError(_l("Enter at most %(count)s addresses at a time.", count=MAX_ADDRESSES), "addresses")
    return list(found)


def _check(
    session: Session, text: dict[str, str], contact: str, audience: str, dealer_ids: list[int], addresses: str, language: str | None
) -> None:
    """The first rule the notice breaks, as a ``DomainError`` naming its field."""
    if audience not in AUDIENCES:
        raise DomainError(_l("Choose whom to tell."), "audience")
    for name, value in text.items():
        if not value:
            raise DomainError(_l("Describe this in plain language for the people affected (Art. 34(2))."), name)
    if not contact:
        raise DomainError(_l("Enter whom people can contact for more information (Art. 33(3)(b))."), "contact_point")
    if len(contact) > CONTACT_MAX:
        raise DomainError(_l("Enter at most %(count)s characters.", count=CONTACT_MAX), "contact_point")
    if audience == ADDRESSES:
        if language not in supported_languages():
            raise DomainError(_l("Choose one of the offered languages."), "language")
        if not parse_addresses(addresses):
            raise DomainError(_l("Enter at least one e-mail address."), "addresses")
        return
    if not dealer_ids:
        raise DomainError(_l("Choose at least one dealer."), "dealers")
    known = session.scalar(select(func.count()).select_from(Dealer).where(Dealer.id.in_(dealer_ids)))
    if known != len(dealer_ids):
        raise DomainError(_l("The selected record does not exist."), "dealers")


def _text(value: Any) -> str:
    return str(value or "").strip()
