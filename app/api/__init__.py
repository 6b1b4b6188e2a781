"""The REST API: one module per domain (resources with the contract's names: dealer,
car, car_cost, client, inquiry, sale, privacy_request) and the OpenAPI document that
describes them (``app.api.openapi``); ``register_apis`` adds them all."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder import AppBuilder
from flask_appbuilder.api.manager import SwaggerView

from app.api.car_photos import CarPhotoApi
from app.api.clients import ClientApi
from app.api.dealers import DealerApi
from app.api.imports import CarImportApi, ClientImportApi
from app.api.inquiries import InquiryApi
from app.api.inventory import CarApi, CarCostApi
from app.api.openapi import ForecourtOpenApi
from app.api.privacy import PrivacyRequestApi
from app.api.sales import SaleApi

TENANT_APIS = (CarApi, CarCostApi, ClientApi, InquiryApi, SaleApi)
# Import with preview: tenant-scoped by hand (tests/test_import.py checks isolation).
IMPORT_APIS = (CarImportApi, ClientImportApi)
ALL_APIS = (DealerApi,) + TENANT_APIS
# Privacy requests: tenant-scoped too (a nullable dealer_id; tests/test_privacy_api.py checks isolation).
ALL_APIS += (PrivacyRequestApi,) + IMPORT_APIS
# A car's photos (/api/v1/car/<id>/photos): the car's tenant rule, checked per request.
ALL_APIS += (CarPhotoApi,)


def register_apis(appbuilder: AppBuilder) -> None:
    for api in ALL_APIS:
        appbuilder.add_api(api)
    # In place of FAB's own (``FAB_ADD_OPENAPI_VIEWS = False``): the document completed.
    if current_app.config.get("FAB_API_SWAGGER_UI"):
        appbuilder.add_api(ForecourtOpenApi)
        appbuilder.add_view_no_menu(SwaggerView)
