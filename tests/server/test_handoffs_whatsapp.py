"""The handoff lifecycle on WhatsApp: signed webhooks in, the worker's turns, the agent's
reply delivered to a fake Twilio REST server, and the bot back after release (SQLite and a
fresh Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage

from config.settings import Settings
from server.app import create_app
from server.channels.twilio_inbound import sign
from server.ownership import thread_config

ADMIN_KEY = "test-admin-key"
PUBLIC_BASE_URL = "https://bot.example.com"
TENANT_NUMBER = "whatsapp:+14155238886"
CUSTOMER = "whatsapp:+5215512345678"
WEBHOOK = "/webhooks/whatsapp/demo"
BASE = "/admin/tenants/demo"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def client(settings: Settings, twilio: FakeTwilio) -> Iterator[TestClient]:
    wired = settings.model_copy(
        update={
            "public_base_url": PUBLIC_BASE_URL,
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token_secret,
            "twilio_whatsapp_number": TENANT_NUMBER,
            "twilio_api_base_url": twilio.url,
            "twilio_retry_base_seconds": 0.01,
            "debounce_seconds": 0.1,
            "debounce_cap_seconds": 1.0,
            "worker_poll_seconds": 0.02,
        }
    )
    app = create_app(wired, admin_key=ADMIN_KEY)
    with TestClient(app) as test_client:
        yield test_client


class Customer:
    """Writes to the tenant's WhatsApp number like Twilio would post it."""

    def __init__(self, client: TestClient, twilio: FakeTwilio) -> None:
        self.client, self.twilio, self.count = client, twilio, 0

    def says(self, body: str) -> Any:
        self.count += 1
        params = {
            "MessageSid": f"SMin{self.count:030d}",
            "AccountSid": self.twilio.account_sid,
            "From": CUSTOMER,
            "To": TENANT_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        signature = sign(self.twilio.auth_token, PUBLIC_BASE_URL + WEBHOOK, params)
        response = self.client.post(WEBHOOK, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
        return response

    def settled(self) -> bool:
        """Every inbound message was taken by a turn and every turn finished."""
        services = self.client.app.state.services  # type: ignore[attr-defined]
        return not self.client.portal.call(services.inbox.queued)  # type: ignore[union-attr]


def admin(client: TestClient, method: str, path: str, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, json=body or None, headers=headers)


def test_lifecycle_with_whatsapp_delivery(client: TestClient, twilio: FakeTwilio) -> None:
    customer = Customer(client, twilio)
    customer.says("hola, quiero hablar con un humano")
    welcome, handoff_text = (m.body for m in twilio.wait_for(2))  # welcome: a new customer
    assert "Tienda Luna" in welcome and "persona de nuestro equipo" in handoff_text

    [item] = wait_until(lambda: admin(client, "GET", f"{BASE}/handoffs").json()["handoffs"])
    cid = item["conversation_id"]
    assert item["channel"] == "whatsapp" and item["customer"] == CUSTOMER.removeprefix("whatsapp:")
    assert item["reasons"] == ["explicit"] and item["status"] == "pending"

    customer.says("¿hola? ¿siguen ahí?")  # pending: recorded, not answered
    wait_until(customer.settled)
    taken = admin(client, "POST", f"{BASE}/conversations/{cid}/assign", agent="Laura")
    assert taken.status_code == 200 and taken.json()["status"] == "human"
    customer.says("mi pedido es el 4411")  # human: recorded, not answered
    wait_until(customer.settled)
    assert len(twilio.messages) == 2  # the bot said nothing while a person owned it

    reply = admin(
        client,
        "POST",
        f"{BASE}/conversations/{cid}/messages",
        agent="Laura",
        body="Hola, soy Laura. Tu pedido 4411 sale hoy por paquetería.",
    )
    assert reply.status_code == 201, reply.text
    [part] = reply.json()["messages"]
    assert part["status"] == "queued" and part["author"] == "Laura"
    delivered = twilio.wait_for(3)[-1]
    assert delivered.to == CUSTOMER and delivered.from_ == TENANT_NUMBER
    assert delivered.body == "Hola, soy Laura. Tu pedido 4411 sale hoy por paquetería."
    assert delivered.status_callback == f"{PUBLIC_BASE_URL}/webhooks/whatsapp/demo/status"

    long = admin(
        client,
        "POST",
        f"{BASE}/conversations/{cid}/messages",
        agent="Laura",
        body="Detalle. " * 400,
    )
    assert long.status_code == 201 and len(long.json()["messages"]) == 3  # split at 1,600
    assert all(len(m.body) <= 1600 for m in twilio.wait_for(6)[3:])

    released = admin(client, "POST", f"{BASE}/conversations/{cid}/release", agent="Laura")
    assert released.status_code == 200 and released.json()["status"] == "bot"
    customer.says("¿cuál es el horario de atención?")
    answer = twilio.wait_for(7)[-1]
    assert "9:00" in answer.body  # the bot answers again

    services = client.app.state.services  # type: ignore[attr-defined]
    snapshot = client.portal.call(services.graph.aget_state, thread_config(cid))  # type: ignore[union-attr]
    texts = [(type(m).__name__, m.text) for m in snapshot.values["messages"]]
    assert ("HumanMessage", "mi pedido es el 4411") in texts
    agent_messages = [
        m for m in snapshot.values["messages"] if isinstance(m, AIMessage) and m.name == "Laura"
    ]
    assert len(agent_messages) == 2
    detail = admin(client, "GET", f"{BASE}/conversations/{cid}").json()
    assert [m["author"] for m in detail["messages"] if m["direction"] == "outbound"] == [
        "bot",
        "bot",
        "Laura",
        "Laura",
        "Laura",
        "Laura",
        "bot",
    ]


def test_a_failed_delivery_is_visible(client: TestClient, twilio: FakeTwilio) -> None:
    customer = Customer(client, twilio)
    customer.says("quiero hablar con un asesor")
    twilio.wait_for(2)
    [item] = wait_until(lambda: admin(client, "GET", f"{BASE}/handoffs").json()["handoffs"])
    twilio.fail_next(400)  # not retryable
    reply = admin(
        client,
        "POST",
        f"{BASE}/conversations/{item['conversation_id']}/messages",
        agent="Laura",
        body="hola",
    )
    assert reply.status_code == 201
    [part] = reply.json()["messages"]
    assert part["status"] == "failed" and "400" in part["error"]
