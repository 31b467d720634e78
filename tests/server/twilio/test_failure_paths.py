"""Failure paths on WhatsApp: never silent, never twice, never a promise nobody keeps.

A turn that keeps failing hands over; an agent's message Twilio took before the call
failed goes out once; messages left unsent by a crash go out once after a restart; a
message in the quiet window of a conversation that closes is still answered; an erasure or
a close during a running turn waits for it (SQLite, and Postgres in CI).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from fakes.webhook_receiver import WebhookReceiver
from fastapi.testclient import TestClient
from twilio_support import (
    ADMIN_KEY,
    CUSTOMER,
    PUBLIC_BASE_URL,
    TENANT_NUMBER,
    Post,
    admin_get,
    form,
)

from checkpoints.memory import CustomerMemory, customer_key, memory_namespace
from config.settings import Settings
from server import worker as worker_module
from server.app import create_app
from server.channels.twilio_inbound import sign
from server.services import Services

HOOK = "/webhooks/whatsapp/demo"
BASE = "/admin/tenants/demo"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
ADDRESS = CUSTOMER.removeprefix("whatsapp:")


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def call(client: TestClient, function: Any, *args: Any) -> Any:
    assert client.portal is not None
    return client.portal.call(function, *args)


def settled(client: TestClient) -> bool:
    return not call(client, services_of(client).inbox.queued)


def conversations(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin_get(client, f"{BASE}/conversations")["conversations"]
    return found


def messages(client: TestClient, conversation_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin_get(client, f"{BASE}/conversations/{conversation_id}")[
        "messages"
    ]
    return found


def hand_over(post: Post, client: TestClient, twilio: FakeTwilio) -> str:
    """A conversation the customer asked a person for; its id."""
    post(HOOK, form("SMh1", "quiero hablar con un asesor"))
    twilio.wait_for(2)
    [item] = wait_until(lambda: admin_get(client, f"{BASE}/handoffs")["handoffs"])
    conversation_id: str = item["conversation_id"]
    return conversation_id


@pytest.fixture
def slow_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(entered, release): a turn whose customer mentions an order ("pedido") waits in
    `plan_turn`, before its graph runs, until released."""
    entered, release = threading.Event(), threading.Event()
    original = worker_module.plan_turn

    async def slow_plan(*args: Any, **kwargs: Any) -> Any:
        if any("pedido" in m.body for m in args[4]):
            entered.set()
            await asyncio.to_thread(release.wait, 30)
        return await original(*args, **kwargs)

    monkeypatch.setattr(worker_module, "plan_turn", slow_plan)
    yield entered, release
    release.set()


def while_held(
    client: TestClient,
    conversation_id: str,
    release: threading.Event,
    request: Callable[[], httpx.Response],
) -> httpx.Response:
    """Make `request` while a slow turn holds the conversation: once the request waits for
    it, let the turn go on; the request's answer."""
    answers: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answers.append(request()))
    caller.start()
    waits = services_of(client)._turn_locks  # the request's in-process wait for the claim
    wait_until(lambda: (lock := waits.get(conversation_id)) is not None and lock.locked())
    release.set()
    caller.join(60)
    assert answers, "the request did not finish"
    return answers[0]


def test_a_turn_that_keeps_failing_tells_the_customer_and_hands_over(
    post: Post, twilio: FakeTwilio, wa_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The knowledge search is down: after its attempts the turn tells the customer a person
    will look at it, and that is true: a handoff (reason `error`), the webhook, the queue."""
    with WebhookReceiver() as hook:
        patched = wa_client.patch(
            BASE,
            json={"handoff": {"webhook_url": hook.url, "webhook_secret": "s" * 32}},
            headers=AUTH,
        )
        assert patched.status_code == 200, patched.text

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("knowledge engine unreachable")

        monkeypatch.setattr(services_of(wa_client).knowledge, "search", broken)
        post(HOOK, form("SMe1", "¿cuánto cuesta el envío?"))
        [notice] = twilio.wait_for(1, timeout=30)
        assert "persona" in notice.body  # the failure notice
        [item] = wait_until(lambda: admin_get(wa_client, f"{BASE}/handoffs")["handoffs"])
        assert item["reasons"] == ["error"] and item["status"] == "pending"
        event = wait_until(lambda: hook.received)[0].json
        assert event["event"] == "handoff.created" and event["reasons"] == ["error"]
        [conversation] = conversations(wa_client)
        assert conversation["status"] == "pending" and conversation["handoff_reasons"] == ["error"]


@pytest.mark.parametrize("fault", ["drop", "hang", 502])
def test_an_agent_message_twilio_took_before_the_call_failed_goes_out_once(
    fault: str | int, post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    conversation_id = hand_over(post, wa_client, twilio)
    twilio.hang_seconds = 3.0
    twilio.accept_then(fault)
    reply = wa_client.post(
        f"{BASE}/conversations/{conversation_id}/messages",
        json={"agent": "Laura", "body": "Hola, soy Laura; reviso tu pedido."},
        headers=AUTH,
    )
    assert reply.status_code == 201, reply.text
    [part] = reply.json()["messages"]
    assert part["status"] == "queued"
    assert twilio.bodies().count("Hola, soy Laura; reviso tu pedido.") == 1


def test_agent_messages_left_unsent_by_a_crash_go_out_once_after_restart(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    """One agent message was recorded but never tried; another was posted to Twilio, which
    took it, before the process died: after the restart the first goes out, the second is
    found at Twilio and not sent again."""
    quiet = wa_settings.model_copy(update={"worker_enabled": False})
    with TestClient(create_app(quiet, admin_key=ADMIN_KEY)) as before:
        store = services_of(before).store
        conversation = call(before, store.open_conversation, "demo", "whatsapp", ADDRESS)
        recorded = [
            call(
                before,
                lambda body, status: store.add_message(
                    "demo",
                    conversation.id,
                    direction="outbound",
                    author="Laura",
                    body=body,
                    status=status,
                ),
                body,
                status,
            )
            for body, status in (
                ("Ya lo reviso.", "submitting"),
                ("Listo, va en camino.", "pending"),
            )
        ]
    # what the dead process managed: Twilio took the first one
    created = httpx.post(
        f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json",
        data={"To": CUSTOMER, "From": TENANT_NUMBER, "Body": "Ya lo reviso."},
        auth=(twilio.account_sid, twilio.auth_token),
    )
    assert created.status_code == 201
    with TestClient(create_app(wa_settings, admin_key=ADMIN_KEY)) as after:
        wait_until(lambda: settled(after))
        statuses = {m["body"]: m["status"] for m in messages(after, conversation.id)}
        assert statuses == {"Ya lo reviso.": "queued", "Listo, va en camino.": "queued"}
    assert twilio.bodies() == ["Ya lo reviso.", "Listo, va en camino."]
    assert [r.id for r in recorded] == sorted(r.id for r in recorded)


def test_a_message_in_the_quiet_window_of_a_closing_conversation_is_answered(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    """The customer writes, and the conversation is closed before the quiet window ends:
    the message is answered in the customer's next conversation, not only recorded."""
    settings = wa_settings.model_copy(update={"debounce_seconds": 3.0})
    with TestClient(create_app(settings, admin_key=ADMIN_KEY)) as client:
        params = form("SMq1", "¿cuál es el horario de atención?")
        signature = sign_for(twilio, params)
        assert client.post(HOOK, data=params, headers=signature).status_code == 200
        [first] = conversations(client)
        closed = client.post(f"{BASE}/conversations/{first['id']}/close", headers=AUTH)
        assert closed.status_code == 200, closed.text
        sent = twilio.wait_for(2, timeout=30)
        assert "9:00" in sent[-1].body
        wait_until(lambda: settled(client))
        by_id = {c["id"]: c for c in conversations(client)}
        assert by_id.pop(first["id"])["status"] == "closed"
        [(second_id, second)] = by_id.items()
        assert second["status"] == "bot"
        assert [m["direction"] for m in messages(client, second_id)] == [
            "inbound",
            "outbound",
            "outbound",
        ]


def sign_for(twilio: FakeTwilio, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": sign(twilio.auth_token, PUBLIC_BASE_URL + HOOK, params)}


def test_an_erasure_during_a_slow_turn_leaves_nothing_behind(
    post: Post,
    twilio: FakeTwilio,
    wa_client: TestClient,
    slow_turns: tuple[threading.Event, threading.Event],
) -> None:
    entered, release = slow_turns
    post(HOOK, form("SMs1", "Hola, soy Ana López; mi pedido 4411 no llegó"))
    assert entered.wait(30)
    [conversation] = conversations(wa_client)
    erased = while_held(
        wa_client,
        conversation["id"],
        release,
        lambda: wa_client.delete(f"{BASE}/customers/{CUSTOMER}", headers=AUTH),
    )
    assert erased.status_code == 200, erased.text
    wait_until(lambda: settled(wa_client))
    services = services_of(wa_client)
    saver = services.persistence.checkpointer
    config = {"configurable": {"thread_id": conversation["id"]}}
    assert call(wa_client, saver.aget_tuple, config) is None
    store = services.persistence.store
    key = customer_key("whatsapp", ADDRESS)
    assert call(wa_client, lambda: store.asearch(memory_namespace("demo", key), limit=50)) == []
    assert call(wa_client, CustomerMemory(store).customers, "demo") == []
    assert conversations(wa_client) == []


def test_a_close_during_a_slow_turn_keeps_its_messages_in_the_final_summary(
    post: Post,
    twilio: FakeTwilio,
    wa_client: TestClient,
    slow_turns: tuple[threading.Event, threading.Event],
) -> None:
    entered, release = slow_turns
    post(HOOK, form("SMc0", "hola, buenas tardes"))
    twilio.wait_for(1, timeout=60)
    wait_until(lambda: settled(wa_client), timeout=60)
    post(HOOK, form("SMc1", "mi pedido 5521 no ha llegado"))
    assert entered.wait(30)
    [conversation] = conversations(wa_client)
    path = f"{BASE}/conversations/{conversation['id']}/close"
    closed = while_held(
        wa_client, conversation["id"], release, lambda: wa_client.post(path, headers=AUTH)
    )
    assert closed.status_code == 200, closed.text
    assert "5521" in closed.json()["summary"]


def test_a_close_that_cannot_wait_for_a_running_turn_says_busy(
    wa_settings: Settings,
    twilio: FakeTwilio,
    slow_turns: tuple[threading.Event, threading.Event],
) -> None:
    """Past the wait (a turn's budget and its sends), the request gets 503 with
    Retry-After; the turn goes on and nothing is closed."""
    entered, release = slow_turns
    impatient = wa_settings.model_copy(
        update={"turn_budget_seconds": 0.3, "twilio_timeout_seconds": 0.1}
    )
    with TestClient(create_app(impatient, admin_key=ADMIN_KEY)) as client:
        params = form("SMb1", "¿dónde está mi pedido 7788?")
        assert client.post(HOOK, data=params, headers=sign_for(twilio, params)).status_code == 200
        assert entered.wait(30)
        [conversation] = conversations(client)
        busy = client.post(f"{BASE}/conversations/{conversation['id']}/close", headers=AUTH)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        assert "busy" in busy.json()["detail"]
        release.set()
        wait_until(lambda: settled(client), timeout=60)
        assert [c["status"] for c in conversations(client)] == ["bot"]
