"""``/api/<version>/_openapi``: FAB's generated document, completed so that it describes
what the API really answers (``tests/test_api_fuzz.py`` checks every operation against it).

FAB builds the document from its views' docstrings, which leave out or mistype a few
answers; :func:`complete_spec` corrects them in one pass over the finished document:

- the shared error responses: ``message`` is a text, or for 422 the field errors;
- an operation that needs an access token can answer 401, and 403 when the user's role
  lacks the permission (the token refresh needs a refresh token and no permission);
- an operation on ``{pk}`` can answer 400 (a malformed ``q``, a value the database
  refuses) and 404 (no such row in the user's reach, or an id no row can have);
- row ids are integers (FAB types ``id`` as a string in its 200/201 bodies);
- ``_info``'s ``add_columns`` and ``edit_columns`` are lists of field descriptions;
- the menu's ``childs`` hold ``"-"`` separators between items;
- the login's 400 carries the field errors, the refresh answers 422 (flask-jwt-extended)
  for a token that is malformed or not a refresh token.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.api.manager import OpenApi

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}}
FIELD_ERRORS = {
    "type": "object",
    "properties": {
        "message": {
            "oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": True},
            ]
        }
    },
}
_JWT_ERROR = {"type": "object", "properties": {"msg": {"type": "string"}}}  # flask-jwt-extended's body
_SHARED = {
    "400": ("Bad request", MESSAGE),
    "401": ("Unauthorized", MESSAGE),
    "403": ("Forbidden: the user's role lacks this permission", MESSAGE),
    "404": ("Not found", MESSAGE),
    "422": ("Could not process entity", FIELD_ERRORS),
    "500": ("Fatal error", MESSAGE),
}
_FIELD_INFO = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string"},
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "count": {"type": "integer", "description": "Related fields: how many rows can be chosen"},
            "values": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": {"type": "integer"}, "value": {"type": "string"}}},
            },
            "validate": {"type": "array", "items": {"type": "string"}},
        },
    },
}
_MENU_SEPARATOR = {"type": "string", "enum": ["-"], "description": "A separator between menu items"}


def response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(code: str) -> dict:
    return {"$ref": f"#/components/responses/{code}"}


def complete_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Correct FAB's generated OpenAPI document (a dict) in place; returns it."""
    shared = spec.setdefault("components", {}).setdefault("responses", {})
    for code, (description, schema) in _SHARED.items():
        shared[code] = response(description, schema)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                _complete_operation(path, method, operation)
    return spec


def _complete_operation(path: str, method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    if {"jwt": []} in operation.get("security", []):
        responses.setdefault("401", _ref("401"))
        responses.setdefault("403", _ref("403"))
    if "{pk}" in path:
        responses.setdefault("400", _ref("400"))
        responses.setdefault("404", _ref("404"))
    for code in ("200", "201"):
        properties = _body(responses.get(code)).get("properties", {})
        if properties.get("id", {}).get("type") == "string":
            properties["id"]["type"] = "integer"  # every Forecourt row id is an integer
    if path.endswith("/_info") and method == "get":
        properties = _body(responses["200"])["properties"]
        properties["add_columns"] = properties["edit_columns"] = _FIELD_INFO
    if path.endswith("/menu/") and method == "get":
        childs = _body(responses["200"])["properties"]["result"]["items"]["properties"]["childs"]
        childs["items"] = {"oneOf": [childs["items"], _MENU_SEPARATOR]}
    if path.endswith("/security/login"):
        responses["400"] = response("Not JSON, or the fields' errors ({field: [message]})", FIELD_ERRORS)
    if path.endswith("/security/refresh"):
        responses["422"] = response("The token is malformed or is not a refresh token", _JWT_ERROR)


def _body(answer: dict | None) -> dict:
    """The JSON schema of an inline response (``{}`` for a reference or no body)."""
    return ((answer or {}).get("content") or {}).get("application/json", {}).get("schema", {})


class ForecourtOpenApi(OpenApi):
    """FAB's ``OpenApi`` view (same permission: ``can_get on OpenApi``), completed."""

    class_permission_name = "OpenApi"
    openapi_spec_tag = "OpenApi"

    @expose("/<version>/_openapi")
    @protect()
    @safe
    def get(self, version):
        api_spec = self._create_api_spec(version)
        apis = [view for view in current_app.appbuilder.baseviews if isinstance(view, BaseApi) and view.version == version]
        if not apis:
            return self.response_404()
        for api in apis:
            api.add_api_spec(api_spec)
        return self.response(200, **complete_spec(api_spec.to_dict()))

    get.__doc__ = OpenApi.get.__doc__
