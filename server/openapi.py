"""The OpenAPI document says every answer the app gives, errors included.

FastAPI documents what a route returns and its own 422; the answers the app adds around
the routes are documented here, once, for every route they apply to: 401 from the admin
key gate, 404 for an unknown tenant, 400 and 413 for a body that cannot be read or is too
large, and the app's own error shape (`ErrorOut`) for every 4xx and 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from server.auth import UNAUTHORIZED, is_admin_path
from server.body_limit import MAX_BODY_BYTES
from server.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
AROUND_ADMIN_ROUTES = {
    "401": {
        "description": f"Unauthorized: {UNAUTHORIZED}",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}},
    },
}
AROUND_TENANT_ROUTES = {"404": {"description": "Unknown tenant, or unknown item named in the path"}}
AROUND_BODIES = {
    "400": {"description": "The body is not valid UTF-8, JSON or multipart data"},
    "413": {
        "description": f"The body is larger than {MAX_BODY_BYTES} bytes (or the route's own limit)"
    },
}
INVALID = "Invalid request: `errors` says where and what (body, query or path)"


def documented(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, with the app's error answers added to FastAPI's document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_errors(generate())
        return app.openapi_schema

    return openapi


def with_errors(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_ERRORS:
        schemas.pop(name, None)
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error.pop("$defs", {}))
    schemas["ErrorOut"] = error
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            around: dict[str, dict[str, Any]] = {}
            if is_admin_path(path):
                around |= AROUND_ADMIN_ROUTES
                if "{tenant_id}" in path:
                    around |= AROUND_TENANT_ROUTES
            if "requestBody" in operation:
                around |= AROUND_BODIES
            for code, response in around.items():
                responses.setdefault(code, dict(response))
            if responses.get("422", {}).get("description") == "Validation Error":
                responses["422"]["description"] = INVALID
            for code, response in responses.items():
                if code[0] in "45":
                    content = response.setdefault("content", {})
                    content["application/json"] = {"schema": _error_schema(content)}
    return document


def _error_schema(content: dict[str, Any]) -> dict[str, Any]:
    """A route's own error schema when it declared one, else `ErrorOut`."""
    declared: dict[str, Any] = content.get("application/json", {}).get("schema", {})
    return (
        declared
        if declared and declared.get("$ref", "").rsplit("/", 1)[-1] not in FASTAPI_ERRORS
        else ERROR_REF
    )
