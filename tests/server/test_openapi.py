"""The OpenAPI document says what the API answers, errors and enforced rules included."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

ERROR = {"$ref": "#/components/schemas/ErrorOut"}


def operations(client: TestClient) -> list[tuple[str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def error_schema(operation: dict[str, Any], code: str) -> Any:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_every_error_answer_is_documented_with_the_app_shape(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["ErrorOut"]["required"]) == {"detail"}
    for name, operation in operations(client):
        codes = set(operation["responses"])
        if " /admin" in name:
            assert "401" in codes, name
            assert error_schema(operation, "401") == ERROR, name
            assert "security" in operation, name
        if "{tenant_id}" in name and " /admin" in name:
            assert "404" in codes, name
        if "requestBody" in operation:
            assert {"400", "413"} <= codes, name
        for code in codes - {"200", "201", "204"}:
            assert error_schema(operation, code)["$ref"].endswith(("/ErrorOut", "/UploadErrorOut"))


def test_conflicts_and_the_webhook_answers_are_documented(client: TestClient) -> None:
    found = dict(operations(client))
    assert "409" in found["POST /admin/tenants"]["responses"]
    assert (
        "409"
        in found["POST /admin/tenants/{tenant_id}/conversations/{conversation_id}/close"][
            "responses"
        ]
    )
    hook = found["POST /webhooks/whatsapp/{tenant_id}"]
    assert {"200", "400", "403", "404", "413", "415"} <= set(hook["responses"])
    assert "text/xml" in hook["responses"]["200"]["content"]
    form = hook["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["required"]) == {"MessageSid", "From", "To"}
    assert any(p["name"] == "X-Twilio-Signature" for p in hook["parameters"])


def test_the_rules_the_handlers_enforce_are_in_the_schemas(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    agent = schemas["AssignIn"]["properties"]["agent"]
    assert re.search(agent["pattern"], "Ana López") and not re.search(agent["pattern"], "Ana\x07")
    whatsapp = schemas["WhatsAppIn"]
    together = [branch.get("required") for branch in whatsapp["anyOf"]]
    assert ["account_sid", "auth_token"] in together
    assert "webhook_secret" in str(schemas["HandoffRulesIn"]["anyOf"])
    number = whatsapp["properties"]["number"]["anyOf"][0]["pattern"]
    assert re.search(number, "+14155238886") and not re.search(number, "+52 155 1234")
    tenant = schemas["TenantFields"]["properties"]
    assert tenant["name"] == {"type": "string", "maxLength": 200, "title": "Name"}
    assert tenant["enabled"]["type"] == "boolean"
    paths = client.get("/openapi.json").json()["paths"]
    listing = paths["/admin/tenants/{tenant_id}/conversations"]["get"]["parameters"]
    offset = next(p for p in listing if p["name"] == "offset")["schema"]
    assert offset["maximum"] == 1_000_000_000
