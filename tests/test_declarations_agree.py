"""Declarations, notices and code agree: what the privacy policy says is collected is
collected (and nothing it denies), every personal column is declared, and everybody the
code hands personal data to is named: the dealer's admins for the account export, the
sub-processors (by category, with location, agreement and transfer safeguard) in the
Art. 15 summary and in the record of processing."""

from __future__ import annotations

import html
import json
import re
import uuid
import zipfile
from datetime import date, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from app.domain.enum_labels import enum_label
from app.models import (
    Dealer,
    PageView,
    PolicyVersion,
    PrivacyRequest,
    RequestChannel,
    RequestStatus,
    RequestType,
    SubProcessor,
    SubProcessorCategory,
    TransferSafeguard,
)
from app.models.base import utcnow
from app.models.users import DealerUser
from app.privacy.lifecycle import account_export
from app.privacy.lifecycle.usage_log import referrer_origin
from app.privacy.registry import entries, entry_for, mapped_models, undeclared_personal_columns
from app.privacy.requests import export_files, intake, processing
from app.privacy.requests.export_parts import account_columns, account_tables
from app.privacy.transparency.initial_policy import initial_policy_text
from app.privacy.transparency.subprocessors import by_category, in_service
from app.queueing import enqueue_request
from tests.factories import make_account
from tests.privacy_support import user_id
from tests.queue_support import run_queue
from tests.web_support import Browser

BROWSER = "AgreeTest/2.0 (X11; Linux x86_64)"
OTHER_SITE = "https://search.example:8443/results?q=jonas+schmidt#top"

# What each item of the policy's "Usage data" and "Technical data" lines is stored as.
CLAIMS = {
    "pages": [("page_view", "path")],
    "features": [("page_view", "feature")],
    "session": [("page_view", "duration_ms")],
    "ip address": [("page_view", "ip_address"), ("inquiry", "ip_address"), ("consent_record", "ip_address")],
    "browser": [("page_view", "user_agent"), ("inquiry", "user_agent")],
    "device": [("page_view", "user_agent"), ("inquiry", "user_agent")],
    "referring": [("page_view", "referrer_origin")],
}
DATA_LINE = re.compile(r"^- (Usage data|Technical data): (?P<items>.*)$", re.MULTILINE)


# -- helpers ---------------------------------------------------------------------------


def claimed_items(policy: str) -> list[str]:
    """The items of the policy's usage and technical data lines (up to each line's first sentence's end)."""
    items = []
    for line in DATA_LINE.finditer(policy):
        text = re.sub(r"\([^)]*\)", "", line["items"])  # "(the browser's user agent)" explains, claims nothing
        text = re.split(r"\.(\s|$)", text)[0]
        items += [item.strip() for item in re.split(r",|\band\b", text) if item.strip()]
    return items


def columns_of_claim(item: str) -> list[tuple[str, str]]:
    keys = [key for key in CLAIMS if key in item.lower()]
    assert keys, f"the policy claims {item!r}, which nothing in the code stores"
    return [column for key in keys for column in CLAIMS[key]]


def model_of(table: str):
    return next(m for m in mapped_models() if m.__tablename__ == table)


def recording_dealer(db, account, record_ips: bool) -> None:
    db.session.get(Dealer, account.dealer_id).record_visitor_ip = record_ips
    db.session.commit()


def views_of(db, user: int, after: int) -> list[PageView]:
    """The user's page views with ids above ``after`` (the account's factory adds one of its own)."""
    db.session.expire_all()
    return list(db.session.scalars(select(PageView).where(PageView.user_id == user, PageView.id > after).order_by(PageView.id)))


def last_view_id(db) -> int:
    return db.session.scalar(select(func.max(PageView.id))) or 0


def signed_in(app, username: str) -> Browser:
    browser = Browser(app.test_client(), username)
    browser.login()
    return browser


def own_subprocessors(db) -> dict[str, SubProcessor]:
    """A hosting company in the EEA with an agreement, a mail company in the US under
    standard contractual clauses without one, and a removed backup company."""
    tag = uuid.uuid4().hex[:6]
    today = date.today()
    rows = {
        "eea": SubProcessor(
            name=f"Agree Hosting {tag} GmbH",
            purpose="Hosting",
            location="Germany (EU)",
            country="DE",
            category=SubProcessorCategory.hosting,
            dpa_signed_on=date(2025, 3, 14),
            since=today - timedelta(days=30),
            notified_at=utcnow(),
        ),
        "transfer": SubProcessor(
            name=f"Agree Mail {tag} Inc.",
            purpose="E-mail delivery",
            location="United States",
            country="US",
            category=SubProcessorCategory.mail,
            transfer_safeguard=TransferSafeguard.scc,
            since=today - timedelta(days=30),
            notified_at=utcnow(),
        ),
        "removed": SubProcessor(
            name=f"Agree Backup {tag} SAS",
            purpose="Backups",
            location="France (EU)",
            country="FR",
            category=SubProcessorCategory.backup,
            since=today - timedelta(days=300),
            removed_on=today - timedelta(days=10),
            notified_at=utcnow(),
        ),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return rows


def section(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}".*?</table>', page, re.DOTALL)
    assert match, element_id
    return match.group(0)


def cells(rows_html: str, row_class: str) -> list[list[str]]:
    """The text of each cell of each ``<tr class=row_class>``."""
    found = []
    for row in re.findall(rf'<tr class="{row_class}"[^>]*>(.*?)</tr>', rows_html, re.DOTALL):
        found.append([html.unescape(re.sub(r"<[^>]+>|\s+", " ", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)])
    return found


# -- what is collected -------------------------------------------------------------------


def test_the_policy_claims_only_what_is_collected(app, db):
    published = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version == 1, PolicyVersion.published_at.is_not(None)))
    texts = {"template": initial_policy_text(), "version 1": published.body}
    for name, text in texts.items():
        items = claimed_items(text)
        assert len(items) >= 5, f"{name}: the usage and technical data lines are gone"
        for item in items:
            for table, column in columns_of_claim(item):
                assert column in model_of(table).__table__.c, f"{name} claims {item!r}: {table}.{column} does not exist"

    # Written, too: one page view opened from another site by a dealer that records IPs.
    account = make_account(db)
    recording_dealer(db, account, True)
    browser, last = signed_in(app, account.staff), last_view_id(db)
    browser.get("/carmodelview/list/", headers={"User-Agent": BROWSER, "Referer": OTHER_SITE}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    browser.get("/clientmodelview/list/")  # closes the first view: its duration
    first = views_of(db, account.staff_id, last)[0]
    claimed = {column for item in claimed_items(texts["template"]) for table, column in columns_of_claim(item) if table == "page_view"}
    assert claimed == {"path", "feature", "duration_ms", "ip_address", "user_agent", "referrer_origin"}
    assert {column: getattr(first, column) is not None for column in claimed} == dict.fromkeys(claimed, True)


def test_the_referrer_is_stored_as_its_origin_only(app, db):
    account = make_account(db)
    browser, last = signed_in(app, account.staff), last_view_id(db)
    browser.get("/carmodelview/list/", headers={"Referer": OTHER_SITE})
    browser.get("/clientmodelview/list/", headers={"Referer": "http://localhost/carmodelview/list/?q=secret"})  # our own page
    browser.get("/salemodelview/list/")
    assert [v.referrer_origin for v in views_of(db, account.staff_id, last)] == ["https://search.example:8443", None, None]
    assert referrer_origin("HTTPS://Example.COM/a/b?c=d") == "https://example.com"
    for nothing in (None, "", "javascript:alert(1)", "android-app://com.example/", "https://[::1/x", "not a url"):
        assert referrer_origin(nothing) is None, nothing


def test_no_user_agent_is_stored_when_ip_recording_is_off(app, db):
    account = make_account(db)
    recording_dealer(db, account, False)
    browser, last = signed_in(app, account.staff), last_view_id(db)
    browser.get("/carmodelview/list/", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    recording_dealer(db, account, True)
    browser.get("/clientmodelview/list/", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert [(v.user_agent, v.ip_address) for v in views_of(db, account.staff_id, last)] == [(None, None), (BROWSER, "203.0.113.8")]


def test_every_personal_column_is_declared_and_every_declared_column_exists(app):
    assert undeclared_personal_columns() == {}
    for entry in entries():
        d, columns = entry.declaration, set(entry.model.__table__.c.keys())
        named = {*d.personal, *d.not_personal, *(c for c in d.export_columns if "." not in c), *(d.account_export_columns or ())}
        assert named - columns == set(), entry.table


# -- who receives what -------------------------------------------------------------------


def test_the_account_export_recipients_are_declared(app, db):
    # Every table whose personal columns go to the dealer's admins names them as recipients.
    for model in account_tables():
        entry = entry_for(model)
        if entry is None:
            continue
        handed = set(account_columns(model, entry)) & set(entry.declaration.personal)
        with force_locale("en"):
            recipients = str(entry.declaration.recipients).lower()
        if handed:
            assert "dealer" in recipients, f"{entry.table} hands {sorted(handed)} to the dealer; its recipients: {recipients!r}"

    # The staff's page views go without IP address, browser or referrer; pages and times stay.
    account = make_account(db)
    db.session.add(
        PageView(
            user_id=account.staff_id,
            dealer_id=account.dealer_id,
            path="/salemodelview/list/",
            feature="SaleModelView.list",
            user_agent=BROWSER,
            ip_address="198.51.100.23",
            referrer_origin="https://search.example",
            duration_ms=4200,
        )
    )
    db.session.commit()
    request = account_export.request_account_export(db.session, account.dealer_id, account.admin_id)
    db.session.commit()
    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed, request.failure
    with zipfile.ZipFile(export_files.export_file(request)) as archive:
        views = json.loads(archive.read("page_view.json"))
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert {tuple(sorted(row)) for row in views} == {("dealer_id", "duration_ms", "feature", "id", "path", "user_id", "viewed_at")}
    assert sorted((row["user_id"], row["path"]) for row in views) == sorted(
        [
            (account.admin_id, "/carmodelview/list/"),
            (account.staff_id, "/clientmodelview/list/"),
            (account.staff_id, "/salemodelview/list/"),
        ]
    )
    assert b"198.51.100.23" not in everything and BROWSER.encode() not in everything


def test_art15_summary_names_the_sub_processors(app, db):
    mine = own_subprocessors(db)
    account = make_account(db, language="en")
    officer = user_id(db, "privacy")
    email = db.session.get(DealerUser, account.staff_id).email
    request = intake.file_request(
        db.session, request_type=RequestType.access, email=email, channel=RequestChannel.officer, actor_id=officer
    )
    db.session.commit()
    processing.request_processing(db.session, request, actor_id=officer)
    db.session.commit()
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status is RequestStatus.completed, request.failure
    with zipfile.ZipFile(export_files.export_file(request)) as archive:
        summary = html.unescape(archive.read("summary.html").decode())

    named = {}
    for heading, body in re.findall(r'<section class="recipients"[^>]*>\s*<h3>(.*?)</h3>(.*?)</section>', summary, re.DOTALL):
        named[heading] = re.findall(r'<li class="recipient"><strong>(.*?)</strong>', body)
    with force_locale("en"):
        expected = {enum_label(category): [item.name for item in items] for category, items in by_category(in_service(db.session))}
    assert named == expected
    assert mine["eea"].name in named["Hosting"] and mine["transfer"].name in named["E-mail delivery"]
    assert mine["removed"].name not in summary
    eea = re.search(rf"{re.escape(mine['eea'].name)}</strong>(.*?)</li>", summary, re.DOTALL).group(1)
    assert "Germany (EU)" in eea and "Data processing agreement signed on March 14, 2025." in eea
    transfer = re.search(rf"{re.escape(mine['transfer'].name)}</strong>(.*?)</li>", summary, re.DOTALL).group(1)
    assert "United States" in transfer and "No data processing agreement on file." in transfer
    transfers = re.findall(r'<li class="transfer"><strong>(.*?)</strong> — (.*?)</li>', summary)
    assert (mine["transfer"].name, "United States: Standard contractual clauses (GDPR Art. 46(2)(c))") in transfers
    assert {name for name, _ in transfers} == {item.name for item in in_service(db.session) if item.is_transfer}
    assert "Your data is not transferred to countries outside the EU/EEA" not in summary


def test_the_record_of_processing_lists_sub_processors_and_transfers(app, db, login):
    mine = own_subprocessors(db)
    page = login("privacy").get("/recordofprocessing/").get_data(as_text=True)
    processors = cells(section(page, "record-processors"), "privacy-record-processor")
    transfers = cells(section(page, "record-transfers"), "privacy-record-transfer")

    assert [row[1] for row in processors] == [item.name for _, items in by_category(in_service(db.session)) for item in items]
    assert ["Hosting", mine["eea"].name, "Hosting", "Germany (EU) (DE)", "signed on Mar 14, 2025"] in processors
    assert ["E-mail delivery", mine["transfer"].name, "E-mail delivery", "United States (US)", "none on file"] in processors
    assert [row[0] for row in transfers] == [item.name for item in in_service(db.session) if item.is_transfer]
    assert [mine["transfer"].name, "United States (US)", "Standard contractual clauses (GDPR Art. 46(2)(c))"] in transfers
    assert mine["eea"].name not in {row[0] for row in transfers}
    assert mine["removed"].name not in page


def test_a_sub_processor_outside_the_eea_needs_a_safeguard(app, db, login):
    name = f"Agree Analytics {uuid.uuid4().hex[:6]} Inc."
    data = {
        "name": name,
        "category": "other",
        "purpose": "Error tracking",
        "location": "United States",
        "country": "us",
        "dpa_signed_on": "",
        "transfer_safeguard": "",
        "since": date.today().isoformat(),
        "website": "",
    }
    staff = login("staff")
    staff.post_form("/subprocessors/add", data)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SubProcessor).where(SubProcessor.name == name)) == 0
    response = staff.post_form("/subprocessors/add", {**data, "transfer_safeguard": "scc", "dpa_signed_on": "2026-01-05"})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalars(select(SubProcessor).where(SubProcessor.name == name)).one()
    assert (row.country, row.category, row.transfer_safeguard, row.dpa_signed_on) == (
        "US",
        SubProcessorCategory.other,
        TransferSafeguard.scc,
        date(2026, 1, 5),
    )
