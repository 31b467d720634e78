"""What a fuzzer sends the admin API: explicit nulls, huge numbers, values of the wrong type,
edge dates. Each gets a clear 4xx or a defined meaning, never a 500 (SQLite and Postgres)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.schemas import MAX_OFFSET

TENANT = {"id": "t1", "name": "x"}


def create(client: TestClient, admin: dict[str, str], **fields: Any) -> Any:
    return client.post("/admin/tenants", json={**TENANT, **fields}, headers=admin)


@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("persona", ""),
        ("company_name", ""),
        ("welcome_message", ""),
        ("handoff_message", ""),
        ("default_language", "es"),
    ],
)
def test_a_null_text_field_is_its_default(
    client: TestClient, admin: dict[str, str], field: str, default: str
) -> None:
    created = create(client, admin, **{field: None})
    assert created.status_code == 201, created.text
    assert created.json()[field] == default
    changed = client.patch("/admin/tenants/t1", json={field: "en"}, headers=admin)
    assert changed.status_code == 200 and changed.json()[field] == "en"
    back = client.patch("/admin/tenants/t1", json={field: None}, headers=admin)
    assert back.status_code == 200, back.text
    assert back.json()[field] == default


@pytest.mark.parametrize("field", ["name", "enabled"])
def test_a_null_name_or_enabled_is_a_clear_422(
    client: TestClient, admin: dict[str, str], field: str
) -> None:
    assert create(client, admin).status_code == 201
    response = client.patch("/admin/tenants/t1", json={field: None}, headers=admin)
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["where"] == f"body.{field}" and "cannot be null" in problem["problem"]
    refused = create(client, admin, id="t2", **{field: None})
    assert refused.status_code == 422, refused.text
    assert client.get("/admin/tenants/t1", headers=admin).json()["enabled"] is True


def test_a_duplicate_id_is_409_whatever_the_other_fields(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert create(client, admin).status_code == 201
    again = create(client, admin, persona=None, company_name=None, default_language=None)
    assert again.status_code == 409, again.text
    assert "already exists" in again.json()["detail"]


def test_null_rules_and_channel_settings_go_back_to_the_defaults(
    client: TestClient, admin: dict[str, str]
) -> None:
    own = {"number": "+14155238886", "debounce_seconds": 2}
    created = create(client, admin, handoff={"max_fallbacks": 5}, whatsapp=own)
    assert created.status_code == 201, created.text
    assert created.json()["handoff"]["max_fallbacks"] == 5
    assert created.json()["whatsapp"]["number"] == "whatsapp:+14155238886"
    reset = client.patch(
        "/admin/tenants/t1", json={"handoff": None, "whatsapp": None}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["handoff"]["max_fallbacks"] == 2
    assert reset.json()["whatsapp"]["number"] is None
    assert reset.json()["whatsapp"]["debounce_seconds"] is None


@pytest.mark.parametrize("offset", [str(MAX_OFFSET + 1), "9223372036854775808", "1e3"])
def test_an_offset_out_of_range_is_422(
    client: TestClient, admin: dict[str, str], offset: str
) -> None:
    response = client.get(f"/admin/tenants/demo/conversations?offset={offset}", headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["where"] == "query.offset"
    last = client.get(f"/admin/tenants/demo/conversations?offset={MAX_OFFSET}", headers=admin)
    assert last.status_code == 200 and last.json()["conversations"] == []


def test_usage_near_the_first_day_there_is(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/admin/tenants/demo/usage?to=0001-01-05", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["from"] == "0001-01-01"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/admin/tenants/demo/lifecycle", {"retention_days": True}),
        ("/admin/tenants/demo/lifecycle", {"idle_hours": "5"}),
        ("/admin/tenants/demo", {"enabled": "false"}),
        ("/admin/tenants/demo", {"handoff": {"release_minutes": True}}),
        ("/admin/tenants/demo", {"whatsapp": {"throttle_per_minute": "7"}}),
    ],
)
def test_a_value_of_the_wrong_json_type_is_422(
    client: TestClient, admin: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    response = client.patch(path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert client.get("/admin/tenants/demo", headers=admin).json()["enabled"] is True


def test_a_whole_number_written_as_a_float_is_that_integer(
    client: TestClient, admin: dict[str, str]
) -> None:
    """JSON Schema's integers include 3.0; 3.5 is not one."""
    path = "/admin/tenants/demo"
    whole = client.patch(path, json={"handoff": {"max_fallbacks": 3.0}}, headers=admin)
    assert whole.status_code == 200, whole.text
    assert whole.json()["handoff"]["max_fallbacks"] == 3
    half = client.patch(path, json={"handoff": {"max_fallbacks": 3.5}}, headers=admin)
    assert half.status_code == 422
