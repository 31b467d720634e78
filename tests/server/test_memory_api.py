"""The admin API of closing, lifecycle settings, export and erasure (SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.recording_chat import RecordingChat
from fastapi.testclient import TestClient
from memory_support import customer_turn

from config.settings import Settings
from server.app import create_app
from server.services import Services
from tools import llm

PHONE = "+5215512345678"
ADMIN_KEY = "test-admin-key"  # the `admin` fixture's key


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, admin_key=ADMIN_KEY)) as client:
        yield client


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def chat(client: TestClient, admin: dict[str, str], customer: str, text: str) -> dict[str, Any]:
    response = client.post(
        "/admin/tenants/demo/chat", json={"customer": customer, "text": text}, headers=admin
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_close_then_the_next_message_opens_a_new_conversation(
    api: TestClient, admin: dict[str, str]
) -> None:
    first = chat(api, admin, "ana", "¿cuál es el horario de atención?")["conversation_id"]
    closed = api.post(f"/admin/tenants/demo/conversations/{first}/close", headers=admin)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["reason"] == "resolved" and body["remembered"]
    assert "horario" in body["summary"]
    listed = api.get(f"/admin/tenants/demo/conversations/{first}", headers=admin).json()
    assert listed["status"] == "closed"
    second = chat(api, admin, "ana", "¿hacen envíos?")["conversation_id"]
    assert second != first


def test_close_errors_are_clear(api: TestClient, admin: dict[str, str]) -> None:
    cid = chat(api, admin, "ana", "hola")["conversation_id"]
    url = f"/admin/tenants/demo/conversations/{cid}/close"
    bad = api.post(url, json={"reason": "bored"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["where"] == "body.reason"
    assert api.post(url, json={"reason": "admin", "x": 1}, headers=admin).status_code == 422
    assert api.post(url).status_code == 401
    unknown = api.post("/admin/tenants/demo/conversations/nope/close", headers=admin)
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    assert (
        api.post(f"/admin/tenants/zz/conversations/{cid}/close", headers=admin).status_code == 404
    )
    assert api.post(url, json={"reason": "admin"}, headers=admin).json()["reason"] == "admin"
    again = api.post(url, headers=admin)
    assert again.status_code == 409 and "already closed" in again.json()["detail"]


def test_lifecycle_settings(api: TestClient, admin: dict[str, str]) -> None:
    url = "/admin/tenants/demo/lifecycle"
    assert api.get(url, headers=admin).json() == {"idle_hours": 24.0, "retention_days": 30.0}
    changed = api.patch(url, json={"retention_days": 7}, headers=admin)
    assert changed.json() == {"idle_hours": 24.0, "retention_days": 7.0}
    assert api.patch(url, json={"idle_hours": 2}, headers=admin).json()["retention_days"] == 7.0
    assert api.patch(url, json={"idle_hours": 0}, headers=admin).status_code == 422
    assert api.patch(url, json={"retention_days": -1}, headers=admin).status_code == 422
    tenant = api.get("/admin/tenants/demo", headers=admin).json()
    assert tenant["handoff"]  # other settings are kept


def test_export_and_erase(api: TestClient, admin: dict[str, str]) -> None:
    services = services_of(api)
    turn = api.portal.call(  # type: ignore[union-attr]
        customer_turn, services, "demo", "whatsapp", PHONE, "Soy Ana López, mi pedido 4411 no llega"
    )
    cid = turn.conversation_id
    api.post(f"/admin/tenants/demo/conversations/{cid}/close", headers=admin)
    exported = api.get(f"/admin/tenants/demo/customers/{PHONE}", headers=admin)
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert [c["id"] for c in body["conversations"]] == [cid]
    assert body["conversations"][0]["thread"][0]["content"].startswith("Soy Ana López")
    keys = {item["key"] for item in body["memory"][f"whatsapp:{PHONE}"]}
    assert {"fact.name", "order.4411", f"summary.{cid}"} <= keys
    prefixed = api.get(f"/admin/tenants/demo/customers/whatsapp:{PHONE}", headers=admin).json()
    assert prefixed["conversations"] == body["conversations"]
    none = api.get(f"/admin/tenants/demo/customers/{PHONE}?channel=cli", headers=admin)
    assert none.status_code == 404
    bad = api.get(f"/admin/tenants/demo/customers/{PHONE}?channel=Bad%20One", headers=admin)
    assert bad.status_code == 422

    erased = api.delete(f"/admin/tenants/demo/customers/{PHONE}", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json() | {"memory_items": 0} == {
        "tenant_id": "demo",
        "customer": PHONE,
        "conversations": 1,
        "threads": 1,
        "messages": 2,
        "memory_items": 0,
        "knowledge_chunks": 0,
    }
    assert erased.json()["memory_items"] >= 3
    gone = api.get(f"/admin/tenants/demo/customers/{PHONE}", headers=admin)
    assert gone.status_code == 404 and PHONE in gone.json()["detail"]
    assert api.delete(f"/admin/tenants/demo/customers/{PHONE}", headers=admin).status_code == 404
    assert api.delete(f"/admin/tenants/zz/customers/{PHONE}", headers=admin).status_code == 404
    assert api.get(f"/admin/tenants/demo/conversations/{cid}", headers=admin).status_code == 404


def test_chat_recalls_the_customer_across_conversations(
    api: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = RecordingChat(replies=["Lo reviso, Ana.", "Lo reviso."], summary="Ana, pedido 4411.")
    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: model)
    first = chat(api, admin, "ana", "Hola, soy Ana López. Mi pedido 4411 no ha llegado.")
    api.post(f"/admin/tenants/demo/conversations/{first['conversation_id']}/close", headers=admin)
    chat(api, admin, "ana", "¿y mi pedido?")
    assert "4411" in model.responder_prompts()[-1] and "Ana López" in model.responder_prompts()[-1]
