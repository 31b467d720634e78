"""The handoff lifecycle through the HTTP API (SQLite and a fresh Postgres): the queue,
assign, agent replies, release, ownership history, webhook notifications, idle release,
out-of-hours handoff, conflicts and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes.polling import wait_until
from fakes.webhook_receiver import WebhookReceiver
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage

from checkpoints.handoffs import HandoffStore
from config.settings import Settings
from server import handoff_notify
from server.app import create_app
from server.handoff_notify import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from server.ownership import release_idle_handoffs, thread_config
from tools.business_hours import BusinessHours

ADMIN_KEY = "test-admin-key"
SECRET = "s3cret-s3cret-s3cret"
CHAT = "/admin/tenants/demo/chat"
BASE = "/admin/tenants/demo"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, admin_key=ADMIN_KEY)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def say(client: TestClient, admin: dict[str, str], text: str, customer: str = "ana") -> dict:
    response = client.post(CHAT, json={"customer": customer, "text": text}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def configure(client: TestClient, admin: dict[str, str], **handoff: Any) -> None:
    response = client.patch(BASE, json={"handoff": handoff}, headers=admin)
    assert response.status_code == 200, response.text


def queue(client: TestClient, admin: dict[str, str]) -> list[dict]:
    response = client.get(f"{BASE}/handoffs", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["handoffs"]


def history(client: TestClient, admin: dict[str, str], cid: str) -> dict:
    response = client.get(f"{BASE}/conversations/{cid}/handoff", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def services(client: TestClient) -> Any:
    return client.app.state.services  # type: ignore[attr-defined]


def thread_messages(client: TestClient, cid: str) -> list[Any]:
    snapshot = client.portal.call(services(client).graph.aget_state, thread_config(cid))  # type: ignore[union-attr]
    return list(snapshot.values["messages"])


def test_whole_lifecycle(client: TestClient, admin: dict[str, str], hook: WebhookReceiver) -> None:
    configure(client, admin, webhook_url=hook.url, webhook_secret=SECRET)
    handed = say(client, admin, "quiero hablar con un humano")
    assert handed["handoff"] is True and handed["status"] == "pending"
    cid = handed["conversation_id"]

    [item] = queue(client, admin)
    assert item["conversation_id"] == cid and item["customer"] == "ana"
    assert item["status"] == "pending" and item["reasons"] == ["explicit"] and item["agent"] is None
    assert "quiero hablar con un humano" in item["summary"]
    assert isinstance(item["sentiment"], float) and 0 <= item["waiting_seconds"] < 60

    [created] = wait_until(lambda: hook.received, timeout=10.0)
    assert created.headers[EVENT_HEADER] == "handoff.created"
    assert verify_signature(
        SECRET, created.headers[TIMESTAMP_HEADER], created.body, created.headers[SIGNATURE_HEADER]
    )
    assert not verify_signature("another-secret-1234", created.headers[TIMESTAMP_HEADER],
                                created.body, created.headers[SIGNATURE_HEADER])  # fmt: skip
    event = created.json
    assert event["event"] == "handoff.created" and event["conversation_id"] == cid
    assert event["customer"] == {"channel": "cli", "address": "ana"}
    assert event["reasons"] == ["explicit"] and "quiero hablar" in event["summary"]
    assert event["business_hours"]["open"] is True

    assert say(client, admin, "¿hola? ¿hay alguien?")["reply"] == ""  # pending: silent

    taken = client.post(
        f"{BASE}/conversations/{cid}/assign", json={"agent": "Laura"}, headers=admin
    )
    assert taken.status_code == 200, taken.text
    assert taken.json() == {
        "conversation_id": cid,
        "status": "human",
        "agent": "Laura",
        "changed": True,
    }
    other = client.post(
        f"{BASE}/conversations/{cid}/assign", json={"agent": "Pedro"}, headers=admin
    )
    assert other.status_code == 409 and "Laura" in other.json()["detail"]
    assert say(client, admin, "¿me ayudas con mi pedido 77?")["reply"] == ""  # human: silent

    reply = client.post(
        f"{BASE}/conversations/{cid}/messages",
        json={"agent": "Laura", "body": "Hola, soy Laura. Tu pedido 77 sale mañana."},
        headers=admin,
    )
    assert reply.status_code == 201, reply.text
    sent = reply.json()
    assert sent["status"] == "human" and sent["agent"] == "Laura"
    assert [(m["author"], m["status"]) for m in sent["messages"]] == [("Laura", "recorded")]

    released = client.post(
        f"{BASE}/conversations/{cid}/release", json={"agent": "Laura"}, headers=admin
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "bot"
    assert queue(client, admin) == []

    detail = client.get(f"{BASE}/conversations/{cid}", headers=admin).json()
    assert [(m["direction"], m["author"]) for m in detail["messages"]] == [
        ("inbound", "customer"),
        ("outbound", "bot"),  # the handoff message
        ("inbound", "customer"),
        ("inbound", "customer"),
        ("outbound", "Laura"),
    ]
    thread = thread_messages(client, cid)
    assert [m.text for m in thread][-3:] == [
        "¿hola? ¿hay alguien?",
        "¿me ayudas con mi pedido 77?",
        "Hola, soy Laura. Tu pedido 77 sale mañana.",
    ]
    assert isinstance(thread[-1], AIMessage) and thread[-1].name == "Laura"

    back = say(client, admin, "¿cuál es el horario de atención?")
    assert back["status"] == "bot" and back["handoff"] is False and "9:00" in back["reply"]

    changes = [
        (e["from_status"], e["to_status"], e["actor"], e["reason"])
        for e in history(client, admin, cid)["events"]
        if e["kind"] == "status"
    ]
    assert changes == [
        ("bot", "pending", "bot", "explicit"),
        ("pending", "human", "Laura", "assigned"),
        ("human", "bot", "Laura", "released"),
    ]
    record = history(client, admin, cid)
    assert record["status"] == "bot"
    assert [n["status"] for n in record["notifications"]] == ["sent"]
    assert [h["end_reason"] for h in record["handoffs"]] == ["released"]


def test_an_agent_reply_takes_a_pending_conversation(
    client: TestClient, admin: dict[str, str]
) -> None:
    cid = say(client, admin, "pásame con un asesor")["conversation_id"]
    reply = client.post(
        f"{BASE}/conversations/{cid}/messages",
        json={"agent": "Pedro Pérez", "body": "Hola 👋 te atiendo yo"},
        headers=admin,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "human" and reply.json()["agent"] == "Pedro Pérez"
    assert thread_messages(client, cid)[-1].name == "Pedro_Perez"
    [item] = queue(client, admin)
    assert item["status"] == "human" and item["agent"] == "Pedro Pérez"
    forced = client.post(
        f"{BASE}/conversations/{cid}/assign", json={"agent": "Sofía", "force": True}, headers=admin
    )
    assert forced.status_code == 200 and forced.json()["agent"] == "Sofía"
    events = [e for e in history(client, admin, cid)["events"] if e["kind"] == "status"]
    assert events[-1]["reason"] == "assigned (from Pedro Pérez)"


def test_queue_is_oldest_first(client: TestClient, admin: dict[str, str]) -> None:
    first = say(client, admin, "quiero un humano", customer="uno")["conversation_id"]
    queue(client, admin)
    second = say(client, admin, "quiero un humano", customer="dos")["conversation_id"]
    assert [h["conversation_id"] for h in queue(client, admin)] == [first, second]
    only = client.get(f"{BASE}/handoffs?status=human", headers=admin).json()["handoffs"]
    assert only == []


def test_conflicts_and_other_tenants(client: TestClient, admin: dict[str, str]) -> None:
    cid = say(client, admin, "¿aceptan tarjeta?")["conversation_id"]
    before = client.get(f"{BASE}/conversations/{cid}", headers=admin).json()["messages"]
    body = {"agent": "Laura", "body": "hola"}
    bot_owned = client.post(f"{BASE}/conversations/{cid}/messages", json=body, headers=admin)
    assert bot_owned.status_code == 409 and "bot owns it" in bot_owned.json()["detail"]
    for action in ("assign", "release"):
        response = client.post(
            f"{BASE}/conversations/{cid}/{action}", json={"agent": "L"}, headers=admin
        )
        assert response.status_code == 409, response.text

    created = client.post("/admin/tenants", json={"id": "otra", "name": "Otra"}, headers=admin)
    assert created.status_code == 201
    for path, payload in (
        (f"/admin/tenants/otra/conversations/{cid}/messages", body),
        (f"/admin/tenants/otra/conversations/{cid}/assign", {"agent": "Laura"}),
        (f"/admin/tenants/otra/conversations/{cid}/release", None),
        (f"{BASE}/conversations/nope/messages", body),
        (f"/admin/tenants/nadie/conversations/{cid}/messages", body),
    ):
        response = client.post(path, json=payload, headers=admin)
        assert response.status_code == 404, (path, response.text)
        assert "detail" in response.json()
    assert (
        client.get(f"/admin/tenants/otra/conversations/{cid}/handoff", headers=admin).status_code
        == 404
    )
    assert client.post(f"{BASE}/conversations/{cid}/release", json=body).status_code == 401
    after = client.get(f"{BASE}/conversations/{cid}", headers=admin).json()
    assert after["messages"] == before and after["status"] == "bot"


@pytest.mark.parametrize(
    "body",
    [
        {"agent": "Laura", "body": ""},
        {"agent": "Laura", "body": "   \n "},
        {"agent": "Laura", "body": "x" * 20_000},
        {"agent": "", "body": "hola"},
        {"agent": "Lau\nra", "body": "hola"},
        {"body": "hola"},
        {"agent": "Laura", "body": "hola", "extra": 1},
    ],
)
def test_bad_agent_messages_are_refused(
    client: TestClient, admin: dict[str, str], body: dict
) -> None:
    cid = say(client, admin, "quiero hablar con un humano")["conversation_id"]
    response = client.post(f"{BASE}/conversations/{cid}/messages", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "invalid request"
    assert client.get(f"{BASE}/conversations/{cid}", headers=admin).json()["status"] == "pending"


def test_out_of_hours_handoff(client: TestClient, admin: dict[str, str]) -> None:
    zone = "America/Mexico_City"
    today = datetime.now(UTC).astimezone(BusinessHours(zone).zone).date().isoformat()
    configure(
        client,
        admin,
        business_hours={"timezone": zone, "schedule": ["mon-sun 09:00-18:00"], "holidays": [today]},
    )
    reply = say(client, admin, "necesito hablar con una persona")["reply"]
    assert "fuera de horario" in reply and "mañana a partir de las 9:00" in reply
    bad = client.patch(
        BASE, json={"handoff": {"business_hours": {"timezone": "Luna/Base"}}}, headers=admin
    )
    assert bad.status_code == 422
    unsigned = client.patch(
        BASE, json={"handoff": {"webhook_url": "https://x.example"}}, headers=admin
    )
    assert unsigned.status_code == 422


def test_notifications_are_retried_then_fail_visibly(
    client: TestClient,
    admin: dict[str, str],
    hook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handoff_notify, "BACKOFF_BASE_SECONDS", 0.01)
    configure(client, admin, webhook_url=hook.url, webhook_secret=SECRET)
    hook.fail_next(500, 503)
    cid = say(client, admin, "quiero un agente", customer="uno")["conversation_id"]
    queue(client, admin)

    def notification(conversation: str) -> dict | None:
        found = history(client, admin, conversation)["notifications"]
        return found[0] if found and found[0]["status"] != "pending" else None

    assert wait_until(lambda: notification(cid), timeout=10.0)["status"] == "sent"
    assert hook.answered == [500, 503, 200]
    assert len({r.headers[DELIVERY_HEADER] for r in hook.received}) == 1  # same delivery id
    assert len({r.body for r in hook.received}) == 1

    hook.fail_next(*[500] * handoff_notify.MAX_ATTEMPTS)
    failing = say(client, admin, "quiero un agente", customer="dos")["conversation_id"]
    queue(client, admin)
    failed = wait_until(lambda: notification(failing), timeout=10.0)
    assert failed["status"] == "failed" and failed["attempts"] == handoff_notify.MAX_ATTEMPTS
    assert failed["error"] == "HTTP 500"
    [problem] = [
        e for e in history(client, admin, failing)["events"] if e["kind"] == "notify_failed"
    ]
    assert "handoff.created after 6 attempts: HTTP 500" in problem["reason"]
    listed = {h["conversation_id"]: h for h in queue(client, admin)}
    assert listed[failing]["notification"]["status"] == "failed"
    assert listed[cid]["notification"]["status"] == "sent"


def test_idle_handoffs_are_reminded_then_released(
    client: TestClient, admin: dict[str, str], hook: WebhookReceiver
) -> None:
    configure(
        client,
        admin,
        webhook_url=hook.url,
        webhook_secret=SECRET,
        reminder_minutes=10,
        release_minutes=30,
    )
    waiting = say(client, admin, "quiero hablar con un humano", customer="uno")["conversation_id"]
    served = say(client, admin, "quiero hablar con un humano", customer="dos")["conversation_id"]
    queue(client, admin)
    wait_until(lambda: len(hook.received) == 2, timeout=10.0)
    now = datetime.now(UTC)

    def idle_pass(minutes: float) -> Any:
        return client.portal.call(  # type: ignore[union-attr]
            release_idle_handoffs, services(client), now + timedelta(minutes=minutes)
        )

    assert idle_pass(5).reminded == []
    assert sorted(idle_pass(11).reminded) == sorted([waiting, served])
    assert idle_pass(12).reminded == []  # once per idle stretch
    wait_until(lambda: len(hook.received) == 4, timeout=10.0)
    assert {r.json["event"] for r in hook.received[2:]} == {"handoff.reminder"}

    store = HandoffStore(services(client).store.db)
    later = now + timedelta(minutes=20)  # Laura takes the second one then
    client.portal.call(store.agent_replied, "demo", served, "Laura", later)  # type: ignore[union-attr]
    outcome = idle_pass(31)
    assert outcome.released == [waiting]
    detail = client.get(f"{BASE}/conversations/{waiting}", headers=admin).json()
    assert detail["status"] == "bot"
    notice = detail["messages"][-1]
    assert notice["author"] == "bot" and "Disculpa la espera" in notice["body"]
    assert thread_messages(client, waiting)[-1].name == "release"
    wait_until(
        lambda: any(r.json["event"] == "handoff.released" for r in hook.received), timeout=10.0
    )

    assert idle_pass(20 + 29).released == []
    assert idle_pass(20 + 31).released == [served]
    last = client.get(f"{BASE}/conversations/{served}", headers=admin).json()["messages"][-1]
    assert "Disculpa la espera" not in last["body"]  # the customer was not left waiting
    kinds = [
        (e["kind"], e["actor"], e["reason"])
        for e in history(client, admin, waiting)["events"]
        if e["kind"] != "notified"
    ]
    assert kinds == [
        ("status", "bot", "explicit"),
        ("reminded", "system", "idle"),
        ("status", "system", "idle"),
    ]


def test_no_reminder_or_release_while_closed(client: TestClient, admin: dict[str, str]) -> None:
    zone = "UTC"
    today = datetime.now(UTC).date().isoformat()
    configure(
        client,
        admin,
        business_hours={"timezone": zone, "schedule": ["mon-sun 00:00-24:00"], "holidays": [today]},
        reminder_minutes=1,
        release_minutes=2,
    )
    cid = say(client, admin, "quiero hablar con un humano")["conversation_id"]
    queue(client, admin)
    end_of_today = datetime.now(UTC).replace(hour=23, minute=59)
    outcome = client.portal.call(release_idle_handoffs, services(client), end_of_today)  # type: ignore[union-attr]
    assert outcome.reminded == [] and outcome.released == []
    assert client.get(f"{BASE}/conversations/{cid}", headers=admin).json()["status"] == "pending"
