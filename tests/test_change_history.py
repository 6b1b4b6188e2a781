"""The change history of dealer-owned records: written at flush time (one bulk insert,
who/when/which field/from what to what), shown on each record's History tab and at
``GET /api/v1/<resource>/<id>/history`` within the tenant, and under the privacy rules
(erased with the person, in the access export, deleted with the record and the account)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from sqlalchemy import event, select, update

from app.models import Car, CarCost, CarStatus, ChangeRecord, Client
from app.models.base import utcnow
from app.models.history import tracked_columns, tracked_models
from app.privacy.lifecycle.account_deletion import ACCOUNT_DATA
from app.privacy.requests import export_parts
from app.privacy.requests.erasure_rows import delete_rows
from app.privacy.requests.scan import scan_all_text_columns
from app.queueing import enqueue_request
from tests.factories import add_client, add_inquiry, add_sale, make_account, make_car, make_client, new_dealer, new_person
from tests.privacy_support import confirm, file_access, file_erasure, user_id
from tests.queue_support import run_queue


def history(db, table: str, row_id: int) -> list[ChangeRecord]:
    db.session.expire_all()
    query = select(ChangeRecord).where(ChangeRecord.table_name == table, ChangeRecord.row_id == row_id)
    return list(db.session.scalars(query.order_by(ChangeRecord.id)))


def changes(db, table: str, row_id: int) -> list[tuple]:
    return [(r.action, r.field, r.old_value, r.new_value, r.actor) for r in history(db, table, row_id)]


# -- writing ---------------------------------------------------------------------------


def test_a_job_s_edit_records_each_changed_field_from_what_to_what_as_system(db, dealer_ids):
    car = make_car(db, dealer_ids["north-motors"], asking_price_minor=1_500_000, exterior_colour="Blue")
    db.session.commit()
    car.asking_price_minor = 1_425_000
    car.exterior_colour = "Grün"
    car.status = CarStatus.reserved
    car.mileage = car.mileage  # unchanged: not recorded
    db.session.commit()
    assert changes(db, "car", car.id) == [
        ("insert", None, None, None, "system"),
        ("update", "exterior_colour", '"Blue"', '"Grün"', "system"),
        ("update", "status", '"available"', '"reserved"', "system"),
        ("update", "asking_price_minor", "1500000", "1425000", "system"),
    ]
    rows = history(db, "car", car.id)
    assert {r.dealer_id for r in rows} == {dealer_ids["north-motors"]}
    assert all(r.changed_by_id is None and r.changed_at is not None for r in rows)


def test_bookkeeping_columns_and_kept_buyer_names_are_never_recorded(db):
    recorded = {model.__tablename__: {key for key, _ in tracked_columns(model)} for model in tracked_models()}
    assert {"car", "car_cost", "car_photo", "client", "inquiry", "sale", "dealer_social_link"} <= set(recorded)
    assert not {"change_history", "car_price_change", "car_status_change", "consent_record", "ab_user", "page_view"} & set(recorded)
    for columns in recorded.values():
        assert not {"id", "dealer_id", "created_at", "updated_at", "restricted_at"} & columns
    assert "buyer_name" not in recorded["sale"] and "buyer_address" not in recorded["sale"]
    assert {"email", "phone", "notes", "marketing_consent"} <= recorded["client"]


def test_one_flush_writes_its_history_in_one_insert_and_reads_nothing(app, db, dealer_ids):
    cars = [make_car(db, dealer_ids["north-motors"]) for _ in range(3)]
    db.session.commit()
    for car in cars:
        car.exterior_colour = "Silver"
        car.mileage = 5000
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        db.session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    history_statements = [s for s in statements if "change_history" in s]
    assert len(history_statements) == 1 and history_statements[0].lstrip().upper().startswith("INSERT")
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    db.session.commit()
    assert len(history(db, "car", cars[0].id)) == 3  # insert, colour, mileage


def test_deleting_a_record_leaves_only_who_deleted_it_and_when(db, dealer_ids):
    client = make_client(db, dealer_ids["north-motors"], address="old-address@example.org")
    client.email = "new-address@example.org"
    db.session.commit()
    assert len(history(db, "client", client.id)) == 2
    client_id = client.id
    db.session.delete(client)
    db.session.commit()
    assert changes(db, "client", client_id) == [("delete", None, None, None, "system")]
    assert scan_all_text_columns(db.session, ["old-address@example.org", "new-address@example.org"]) == {}


# -- reading: REST and the History tab -------------------------------------------------


def test_an_api_edit_is_recorded_with_the_user_and_read_back_localised(api, db, dealer_ids):
    client = make_client(db, dealer_ids["north-motors"])
    north = api("north-motors-admin")
    answer = north.put(f"/api/v1/client/{client.id}", json={"city": "Köln", "marketing_consent": False})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    answer = north.get(f"/api/v1/client/{client.id}/history")
    assert answer.status_code == 200
    body = answer.json
    city = next(r for r in body["result"] if r["field"] == "city")
    assert (city["action"], city["old_value"], city["new_value"], city["actor"]) == ("update", None, "Köln", "user")
    assert city["changed_by"] == user_id(db, "north-motors-admin")
    assert city["label"] and city["new_display"] == "Köln" and city["old_display"] == "—"
    assert body["result"][-1]["action"] == "insert" and body["count"] == len(body["result"])


def test_another_dealer_s_or_a_restricted_record_s_history_is_a_404(api, db, dealer_ids):
    client = make_client(db, dealer_ids["north-motors"])
    client.city = "Bremen"
    db.session.commit()
    assert api("south-cars-admin").get(f"/api/v1/client/{client.id}/history").status_code == 404
    north = api("north-motors-admin")
    assert north.get(f"/api/v1/client/{client.id}/history").status_code == 200
    assert north.get("/api/v1/client/99999999999999999999/history").status_code == 404
    db.session.execute(update(Client).where(Client.id == client.id).values(restricted_at=utcnow()))
    db.session.commit()
    assert north.get(f"/api/v1/client/{client.id}/history").status_code == 404


def test_the_history_route_is_in_the_openapi_document_for_tracked_resources_only(api):
    spec = api("admin").get("/api/v1/_openapi")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for resource in ("car", "client", "inquiry", "sale", "car_cost"):
        operation = paths[f"/api/v1/{resource}/{{pk}}/history"]["get"]
        assert set(operation["responses"]) >= {"200", "401", "404"}
    assert "/api/v1/privacy_request/{pk}/history" not in paths and "/api/v1/dealer/{pk}/history" not in paths


def test_the_show_page_has_a_history_tab_with_localised_labels_and_values(app, db, dealer_ids, login):
    car = make_car(db, dealer_ids["north-motors"], asking_price_minor=1_000_000)
    db.session.commit()
    car.asking_price_minor = 950_000
    car.status = CarStatus.reserved
    db.session.commit()
    browser = login("north-motors-admin")
    page = browser.get(f"/carmodelview/show/{car.id}", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert 'href="#History"' in page and 'id="History"' in page
    rows = re.findall(r'<tr class="change change-update" data-field="(\w+)">(.*?)</tr>', page, re.DOTALL)
    fields = {field: re.sub(r"<[^>]+>", " ", cells) for field, cells in rows}
    assert set(fields) == {"asking_price_minor", "status"}
    assert "10" in fields["asking_price_minor"] and "9" in fields["asking_price_minor"]
    assert "available" not in fields["status"]  # a label, not the stored value


def test_a_record_without_history_says_so_and_untracked_pages_have_no_tab(app, db, dealer_ids, login):
    car = make_car(db, dealer_ids["north-motors"])
    db.session.execute(ChangeRecord.__table__.delete().where(ChangeRecord.table_name == "car", ChangeRecord.row_id == car.id))
    db.session.commit()
    browser = login("north-motors-admin")
    page = browser.get(f"/carmodelview/show/{car.id}").get_data(as_text=True)
    assert 'class="text-muted no-history"' in page
    south = login("south-cars-admin").get(f"/carmodelview/show/{car.id}")
    assert south.status_code == 404


# -- privacy ---------------------------------------------------------------------------


def test_an_erasure_of_a_client_with_history_completes_and_leaves_none_of_their_values(app, db):
    dealer = new_dealer(db)
    p = new_person()
    client = add_client(db, p, dealer.id)
    inquiry = add_inquiry(db, p, dealer.id, client=client)
    sale = add_sale(db, p, client, date.today() - timedelta(days=30))
    db.session.commit()
    old_email = p.email
    client.notes = f"Prefers e-mail: {old_email}"
    client.phone = "+4930" + "55512345"
    inquiry.message = f"Reach me at {old_email} or {p.phone}"
    sale.status = sale.status  # no change
    db.session.commit()
    assert any(old_email in (r.old_value or "") + (r.new_value or "") for r in history(db, "client", client.id))
    ids = {"client": client.id, "inquiry": inquiry.id, "sale": sale.id}
    request = file_erasure(db, p, dealer.id)
    db.session.commit()
    confirm(db, request)
    enqueue_request(request.id)
    run_queue(app)
    db.session.expire_all()
    from app.models import PrivacyRequest, RequestStatus

    done = db.session.get(PrivacyRequest, request.id)
    assert done.status is RequestStatus.completed, done.failure
    assert history(db, "client", ids["client"]) == [] and history(db, "inquiry", ids["inquiry"]) == []
    kept = history(db, "sale", ids["sale"])
    assert all(r.field not in ("client_id", "buyer_name", "buyer_address") for r in kept)
    assert scan_all_text_columns(db.session, [old_email, p.phone, "55512345"]).get("change_history") is None


def test_an_access_export_holds_the_history_of_the_person_s_records_only(app, db):
    dealer = new_dealer(db)
    p, other = new_person(), new_person()
    mine, theirs = add_client(db, p, dealer.id), add_client(db, other, dealer.id)
    db.session.commit()
    mine.city, theirs.city = "Lübeck", "Kiel"
    db.session.commit()
    request = file_access(db, p.email, dealer.id)
    parts = {part.name: part for part in export_parts.subject_parts(db.session, request)}
    rows = db.session.scalars(parts["change_history"].query).all()
    assert {(r.table_name, r.row_id) for r in rows} == {("client", mine.id)}
    assert {"table_name", "row_id", "field", "old_value", "new_value", "changed_at"} <= set(parts["change_history"].columns)
    assert json.loads(next(r.new_value for r in rows if r.field == "city")) == "Lübeck"
    db.session.rollback()


def test_history_goes_with_its_record_and_with_the_account(db, dealer_ids):
    assert ChangeRecord in ACCOUNT_DATA  # day 30 of a terminated account
    car = make_car(db, dealer_ids["north-motors"], exterior_colour="Red")
    db.session.commit()
    car.exterior_colour = "Black"
    db.session.commit()
    cost = CarCost(dealer_id=car.dealer_id, car=car, amount_minor=10_000, note="Tyres")
    db.session.add(cost)
    db.session.commit()
    cost.note = "Four tyres"
    db.session.commit()
    car_id, cost_id = car.id, cost.id
    assert history(db, "car", car_id) and history(db, "car_cost", cost_id)
    delete_rows(db.session, Car, [car_id], record=False)  # an erasure's or a sweep's deletion
    db.session.commit()
    assert history(db, "car", car_id) == [] and history(db, "car_cost", cost_id) == []  # its costs' too


def test_the_account_export_leaves_out_the_history_of_restricted_records(db):
    from app.models import PrivacyRequest

    account = make_account(db)
    open_client, restricted = db.session.get(Client, account.client_id), db.session.get(Client, account.restricted_client_id)
    restricted.restricted_at = None
    db.session.commit()
    open_client.city, restricted.city = "Rostock", "Wismar"
    db.session.commit()
    db.session.execute(update(Client).where(Client.id == restricted.id).values(restricted_at=utcnow()))
    db.session.commit()
    parts = {part.name: part for part in export_parts.account_parts(db.session, PrivacyRequest(dealer_id=account.dealer_id))}
    exported = db.session.scalars(parts["change_history"].query).all()
    assert ("client", open_client.id) in {(r.table_name, r.row_id) for r in exported}
    assert all(not (r.table_name == "client" and r.row_id == restricted.id) for r in exported)
    assert parts["change_history"].left_out == len(history(db, "client", restricted.id)) >= 2
    db.session.rollback()


def test_a_client_s_show_page_lists_changes_of_the_fields_it_shows(db, dealer_ids, login):
    client = make_client(db, dealer_ids["north-motors"])
    client.city, client.marketing_objected_at = "Erfurt", utcnow()
    db.session.commit()
    page = login("north-motors-staff").get(f"/clientmodelview/show/{client.id}").get_data(as_text=True)
    fields = set(re.findall(r'<tr class="change change-update" data-field="(\w+)">', page))
    assert "city" in fields and "marketing_objected_at" not in fields  # not on the page, not in its history


def test_a_secret_is_recorded_as_changed_and_never_with_its_values(db, dealer_ids, monkeypatch):
    import app.change_history as writer

    real = writer.tracked_columns
    monkeypatch.setattr(writer, "tracked_columns", lambda model: tuple((key, secret or key == "notes") for key, secret in real(model)))
    client = make_client(db, dealer_ids["north-motors"])
    client.notes = "door code 4711"
    db.session.commit()
    [row] = [r for r in history(db, "client", client.id) if r.field == "notes"]
    assert (row.action, row.old_value, row.new_value) == ("update", None, None)
    [entry] = [e for e in writer.history_of(client, ["notes"], {"notes": "Notes"}) if e.field == "notes"]
    assert (entry.old, entry.new) == ("(changed)", "(changed)")
