"""Schema-based fuzzing of the REST API (issue 10): every operation of ``/api/v1/_openapi``
gets generated requests, valid and invalid, through the WSGI app on the suite's database,
as a dealer user of its own dealer (so nothing it creates or deletes is other tests'
data). A 5xx fails, and so does a response the document does not describe (status code,
content type, body schema). Derandomised: the same examples on every run."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

FUZZ_DEALER = "fuzz-motors"
FUZZ_USER = "fuzz-motors-admin"
PASSWORD = "Quartz-lantern-Fjord-58"  # meets the password policy (app/domain/passwords.py)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Filing and processing privacy requests queue jobs and e-mails for real people's data
# paths; they have their own tests (tests/test_privacy_api.py).
SKIPPED = {("POST", "/api/v1/privacy_request/"), ("POST", "/api/v1/privacy_request/{pk}/process")}
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def fuzz_token(app):
    from app.domain.grants import DEALER_ADMIN
    from app.extensions import db
    from app.models import Dealer
    from app.provisioning import create_user

    with app.app_context():
        if db.session.query(Dealer).filter_by(slug=FUZZ_DEALER).one_or_none() is None:
            db.session.add(Dealer(slug=FUZZ_DEALER, business_name="Fuzz Motors", city="Berlin", country="DE", default_currency="EUR"))
            db.session.commit()
            create_user(FUZZ_USER, PASSWORD, f"{FUZZ_USER}@forecourt.example", DEALER_ADMIN, FUZZ_DEALER)
            db.session.commit()
    response = app.test_client().post("/api/v1/security/login", json={"username": FUZZ_USER, "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def _operations(app, headers):
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]


def test_every_api_operation_answers_as_its_schema_says(app, fuzz_token):
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    operations = _operations(app, headers)
    assert len(operations) > 20
    failures = []
    for operation in operations:
        for mode in MODES:

            @settings(
                max_examples=12,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (report every operation)
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {_summary(exc)}")
    assert not failures, "\n\n".join(failures)


def _summary(exc: BaseException) -> str:
    """The failures' titles and the first lines of each (schemathesis's own report is long)."""
    parts = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(" ".join(str(part).split())[:300] for part in parts)
