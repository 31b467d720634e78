"""A tenant's own WhatsApp number, Twilio account, quiet window and throttle, set through
the admin API and used by the webhook and the sender."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from twilio_support import ADMIN_KEY, CUSTOMER, Post, admin_get, form

HOOK = "/webhooks/whatsapp/demo"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
OWN_SID = "AC" + "1234abcd" * 4
OWN_TOKEN = "own-tenant-token-1234"
OWN_NUMBER = "+5215599990000"


def patch(client: TestClient, whatsapp: dict[str, Any]) -> Any:
    return client.patch("/admin/tenants/demo", json={"whatsapp": whatsapp}, headers=AUTH)


def test_settings_are_merged_and_the_token_never_comes_back(wa_client: TestClient) -> None:
    response = patch(
        wa_client,
        {"number": f"whatsapp:{OWN_NUMBER}", "account_sid": OWN_SID, "auth_token": OWN_TOKEN},
    )
    assert response.status_code == 200, response.text
    assert patch(wa_client, {"debounce_seconds": 1.5, "throttle_per_minute": 5}).status_code == 200
    got = admin_get(wa_client, "/admin/tenants/demo")
    assert got["whatsapp"] == {
        "number": f"whatsapp:{OWN_NUMBER}",
        "account_sid": OWN_SID,
        "auth_token_set": True,
        "debounce_seconds": 1.5,
        "throttle_per_minute": 5,
    }
    listed = wa_client.get("/admin/tenants", headers=AUTH)
    for text in (response.text, listed.text, str(got)):
        assert OWN_TOKEN not in text
    assert patch(wa_client, {"number": OWN_NUMBER.removeprefix("+")}).status_code == 422
    cleared = patch(wa_client, {"number": None, "debounce_seconds": None}).json()["whatsapp"]
    assert cleared["number"] is None and cleared["debounce_seconds"] is None
    assert cleared["account_sid"] == OWN_SID and cleared["throttle_per_minute"] == 5


@pytest.mark.parametrize(
    "whatsapp",
    [
        {"number": "12345"},
        {"number": "whatsapp:+0123456789"},
        {"number": "+52 155 1234"},
        {"account_sid": "AC123", "auth_token": OWN_TOKEN},
        {"account_sid": "XX" + "a" * 32, "auth_token": OWN_TOKEN},
        {"account_sid": OWN_SID},
        {"auth_token": OWN_TOKEN},
        {"account_sid": OWN_SID, "auth_token": "has spaces inside"},
        {"debounce_seconds": 16},
        {"debounce_seconds": -1},
        {"throttle_per_minute": 0},
        {"unknown": 1},
    ],
)
def test_invalid_values_are_refused(wa_client: TestClient, whatsapp: dict[str, Any]) -> None:
    assert patch(wa_client, whatsapp).status_code == 422
    created = wa_client.post(
        "/admin/tenants", json={"id": "other", "name": "Other", "whatsapp": whatsapp}, headers=AUTH
    )
    assert created.status_code == 422
    assert admin_get(wa_client, "/admin/tenants/demo")["whatsapp"]["auth_token_set"] is False


def test_the_webhook_and_the_sender_use_the_tenant_account(
    wa_client: TestClient, post: Post, twilio: FakeTwilio
) -> None:
    twilio.add_account(OWN_SID, OWN_TOKEN)
    response = patch(
        wa_client,
        {"number": OWN_NUMBER, "account_sid": OWN_SID, "auth_token": OWN_TOKEN},
    )
    assert response.status_code == 200, response.text
    assert post(HOOK, form("SMg1", "¿cuál es el horario?")).status_code == 403  # global token
    assert post(HOOK, form("SMo1", "¿cuál es el horario?"), token=OWN_TOKEN).status_code == 200
    sent = twilio.wait_for(2)
    assert {(m.account_sid, m.from_, m.to) for m in sent} == {
        (OWN_SID, f"whatsapp:{OWN_NUMBER}", CUSTOMER)
    }


def test_the_tenant_throttle_applies(wa_client: TestClient, post: Post, twilio: FakeTwilio) -> None:
    # a longer quiet window (the tenant's own) keeps both messages in one burst
    assert patch(wa_client, {"throttle_per_minute": 1, "debounce_seconds": 1.5}).status_code == 200
    for i in range(2):
        assert post(HOOK, form(f"SMq{i}", f"pregunta número {i}")).status_code == 200
    [notice] = twilio.wait_for(1)
    assert "muchos mensajes" in notice.body
