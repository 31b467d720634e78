"""Queued turns: bursts answered once, notices, throttling, handoff, retries, failures."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from twilio_support import CUSTOMER, PUBLIC_BASE_URL, Post, admin_get, form

from checkpoints.records import TenantRecord
from config.settings import Settings
from server import worker as worker_module
from server.app import create_app
from server.channels.twilio_inbound import sign
from server.queued_turns import GraphReply
from server.worker import burst_due_at, quiet_window

HOOK = "/webhooks/whatsapp/demo"


def rows(client: TestClient, sql: str, params: dict[str, Any] | None = None) -> list[dict]:
    db = client.app.state.services.persistence.db  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(db.fetch_all, sql, params)


def turns(client: TestClient) -> list[dict]:
    return rows(client, "SELECT * FROM turns ORDER BY id")


def all_done(client: TestClient) -> bool:
    pending = rows(client, "SELECT id FROM messages WHERE pending")
    return not pending and all(t["status"] == "done" for t in turns(client))


def test_a_five_message_burst_is_answered_by_one_reply(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    texts = ["hola", "una pregunta", "¿cuál es", "el horario", "de atención?"]
    for i, text in enumerate(texts):
        assert post(HOOK, form(f"SMb{i}", text)).status_code == 200
    sent = twilio.wait_for(2)
    wait_until(lambda: all_done(wa_client))
    assert len(turns(wa_client)) == 1
    inbound = rows(wa_client, "SELECT turn_id FROM messages WHERE direction = 'inbound'")
    assert [r["turn_id"] for r in inbound] == [turns(wa_client)[0]["id"]] * 5
    assert len(twilio.messages) == 2 and "9:00" in sent[1].body


def test_a_message_arriving_during_a_turn_goes_to_the_next_turn(
    post: Post, twilio: FakeTwilio, wa_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    original = worker_module.plan_turn

    async def slow_plan(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await asyncio.to_thread(release.wait, 10)
        return await original(*args, **kwargs)

    monkeypatch.setattr(worker_module, "plan_turn", slow_plan)
    post(HOOK, form("SMd1", "¿aceptan devoluciones?"))
    assert entered.wait(10)
    post(HOOK, form("SMd2", "¿y hacen envíos?"))
    release.set()
    twilio.wait_for(3)
    wait_until(lambda: all_done(wa_client) and len(turns(wa_client)) == 2)
    first, second = (t["id"] for t in turns(wa_client))
    inbound = rows(wa_client, "SELECT body, turn_id FROM messages WHERE direction = 'inbound'")
    assert [(r["body"], r["turn_id"]) for r in inbound] == [
        ("¿aceptan devoluciones?", first),
        ("¿y hacen envíos?", second),
    ]
    bodies = twilio.bodies()
    assert len(bodies) == 3 and "30 días" in bodies[1] and "envío" in bodies[2].lower()


def test_media_without_text_gets_a_notice_and_its_urls_are_stored(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    media = {
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/media/ME2",
        "MediaContentType1": "audio/ogg",
    }
    post(HOOK, form("SMm1", "", **media))
    sent = twilio.wait_for(2)
    assert "texto" in sent[1].body
    stored = rows(wa_client, "SELECT media, kind FROM messages WHERE direction = 'inbound'")
    assert stored[0]["kind"] == "media"
    assert "ME1" in stored[0]["media"] and "ME2" in stored[0]["media"]
    wait_until(lambda: all_done(wa_client))
    assert [
        r["kind"]
        for r in rows(
            wa_client, "SELECT kind FROM messages WHERE direction = 'outbound' ORDER BY id"
        )
    ] == ["welcome", "media_notice"]


def test_more_than_twenty_messages_a_minute_are_throttled_with_one_notice(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    for i in range(21):
        post(HOOK, form(f"SMt{i}", f"mensaje número {i}"))
    twilio.wait_for(1)
    wait_until(lambda: all_done(wa_client))
    for i in range(21, 25):
        post(HOOK, form(f"SMt{i}", f"mensaje número {i}"))
        wait_until(lambda: all_done(wa_client))
    kinds = [
        r["kind"] for r in rows(wa_client, "SELECT kind FROM messages WHERE direction = 'outbound'")
    ]
    assert kinds.count("throttle_notice") == 1 and "reply" not in kinds
    assert len(rows(wa_client, "SELECT id FROM messages WHERE direction = 'inbound'")) == 25
    assert any("muchos mensajes" in body for body in twilio.bodies())


def test_twilio_500_then_201_sends_once(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    twilio.fail_next(500, 503, 429)
    post(HOOK, form("SMr1", "¿aceptan Mercado Pago?"))
    sent = twilio.wait_for(2)
    wait_until(lambda: all_done(wa_client))
    assert len(twilio.messages) == 2 and twilio.requests == 5
    statuses = rows(
        wa_client,
        "SELECT status, external_id FROM messages WHERE direction = 'outbound' ORDER BY id",
    )
    assert [(r["status"], r["external_id"]) for r in statuses] == [
        ("queued", sent[0].sid),
        ("queued", sent[1].sid),
    ]


def outbound(client: TestClient) -> list[dict]:
    return rows(
        client,
        """SELECT kind, status, error, external_id, send_attempts FROM messages
           WHERE direction = 'outbound' ORDER BY id""",
    )


def handoff_reasons(client: TestClient) -> list[list[str]]:
    queue = admin_get(client, "/admin/tenants/demo/handoffs")["handoffs"]
    return [item["reasons"] for item in queue]


def test_a_send_refused_for_good_shows_failed_and_hands_over(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    twilio.fail_next(400)  # the welcome is refused; the reply goes out after it
    post(HOOK, form("SMf1", "¿cuál es el horario?"))
    wait_until(lambda: all_done(wa_client) and turns(wa_client) and handoff_reasons(wa_client))
    welcome, reply = outbound(wa_client)
    assert welcome["status"] == "failed" and "400" in welcome["error"]
    assert reply["status"] == "queued" and "9:00" in twilio.bodies()[0]
    assert handoff_reasons(wa_client) == [["error"]]
    conversation = admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"][0]
    assert conversation["status"] == "pending" and conversation["handoff_reasons"] == ["error"]


def test_a_send_out_of_retries_waits_in_the_outbox_and_goes_out_once(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    twilio.fail_next(*[503] * 5)  # the welcome's first round of attempts, all unsettled
    post(HOOK, form("SMo1", "¿cuál es el horario?"))
    wait_until(lambda: all_done(wa_client) and turns(wa_client))
    welcome, reply = outbound(wa_client)
    assert welcome["status"] == "submitting" and "503" in welcome["error"]
    assert welcome["send_attempts"] == 1 and reply["send_attempts"] == 0  # it waits its turn
    assert twilio.messages == []
    sent = twilio.wait_for(2, timeout=20)
    wait_until(lambda: all(m["status"] == "queued" for m in outbound(wa_client)))
    assert [m.body for m in sent][1].count("9:00") == 1 and len(twilio.messages) == 2
    assert [m["external_id"] for m in outbound(wa_client)] == [m.sid for m in sent]
    assert handoff_reasons(wa_client) == []


def test_a_send_past_its_deadline_is_failed_and_handed_over(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    settings = wa_settings.model_copy(
        update={"outbound_deadline_seconds": 1.0, "twilio_timeout_seconds": 0.5}
    )
    twilio.go_down(600)
    with TestClient(create_app(settings, admin_key="test-admin-key")) as client:
        params = form("SMx1", "¿cuál es el horario?")
        headers = {"X-Twilio-Signature": sign(twilio.auth_token, PUBLIC_BASE_URL + HOOK, params)}
        assert client.post(HOOK, data=params, headers=headers).status_code == 200
        wait_until(lambda: handoff_reasons(client) == [["error"]], timeout=30)
        wait_until(lambda: all(m["status"] == "failed" for m in outbound(client)), timeout=30)
        assert all("gave up" in m["error"] for m in outbound(client))
    assert twilio.messages == []


def test_without_a_twilio_account_replies_are_recorded_only(
    wa_settings: Settings, twilio: FakeTwilio
) -> None:
    settings = wa_settings.model_copy(update={"twilio_account_sid": None})
    with TestClient(create_app(settings, admin_key="test-admin-key")) as client:
        signature_token = twilio.auth_token  # validation still uses the global token
        params = form("SMn1", "¿cuál es el horario?")
        headers = {"X-Twilio-Signature": sign(signature_token, PUBLIC_BASE_URL + HOOK, params)}
        assert client.post(HOOK, data=params, headers=headers).status_code == 200
        wait_until(lambda: all_done(client) and turns(client))
        outbound = rows(client, "SELECT status, body FROM messages WHERE direction = 'outbound'")
        assert [r["status"] for r in outbound] == ["recorded", "recorded"]
        assert "9:00" in outbound[1]["body"]
    assert twilio.messages == []


def test_a_conversation_owned_by_a_human_gets_no_bot_reply(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    post(HOOK, form("SMh1", "quiero hablar con un humano"))
    sent = twilio.wait_for(2)
    assert "persona" in sent[1].body
    wait_until(lambda: all_done(wa_client))
    conversation = admin_get(wa_client, "/admin/tenants/demo/conversations")["conversations"][0]
    assert conversation["status"] == "pending" and conversation["handoff_reasons"] == ["explicit"]
    post(HOOK, form("SMh2", "¿hola? ¿alguien?"))
    wait_until(lambda: all_done(wa_client) and len(turns(wa_client)) == 2)
    assert len(twilio.messages) == 2
    graph = wa_client.app.state.services.graph  # type: ignore[attr-defined]
    assert wa_client.portal is not None
    state = wa_client.portal.call(
        graph.aget_state, {"configurable": {"thread_id": conversation["id"]}}
    )
    assert state.values["messages"][-1].content == "¿hola? ¿alguien?"


def test_the_welcome_goes_only_to_new_customers(
    post: Post, twilio: FakeTwilio, wa_client: TestClient
) -> None:
    post(HOOK, form("SMw1", "¿aceptan devoluciones?"))
    twilio.wait_for(2)
    wait_until(lambda: all_done(wa_client))
    post(HOOK, form("SMw2", "¿y hacen envíos?"))
    twilio.wait_for(3)
    wait_until(lambda: all_done(wa_client) and len(turns(wa_client)) == 2)
    other = "whatsapp:+5215599999999"
    post(HOOK, form("SMw3", "hola", sender=other))
    twilio.wait_for(4)
    assert [m.to for m in twilio.messages] == [CUSTOMER, CUSTOMER, CUSTOMER, other]
    assert "Tienda Luna" in twilio.messages[3].body  # "hola" is answered by the welcome alone
    wait_until(lambda: all_done(wa_client))
    assert len(twilio.messages) == 4


def test_a_tenant_uses_its_own_twilio_account_and_number(
    post: Post, wa_client: TestClient, twilio: FakeTwilio
) -> None:
    own_sid = "AC" + "1" * 32
    twilio.add_account(own_sid, "shop-token")
    settings = {
        "twilio": {
            "account_sid": own_sid,
            "auth_token": "shop-token",
            "whatsapp_number": "+15550001111",
        },
        "debounce_seconds": 0.05,
    }
    store = wa_client.app.state.services.store  # type: ignore[attr-defined]
    assert wa_client.portal is not None
    wa_client.portal.call(
        store.create_tenant, TenantRecord(id="shop", name="Shop", settings=settings)
    )
    params = form("SMo1", "hola")
    assert post("/webhooks/whatsapp/shop", params).status_code == 403  # the global token
    assert post("/webhooks/whatsapp/shop", params, token="shop-token").status_code == 200
    sent = twilio.wait_for(1)
    assert (sent[0].account_sid, sent[0].from_, sent[0].to) == (
        own_sid,
        "whatsapp:+15550001111",
        CUSTOMER,
    )


def test_quiet_window_and_cap() -> None:
    from datetime import UTC, datetime, timedelta

    tenant = TenantRecord(id="t", name="T", settings={"debounce_seconds": 99})
    assert quiet_window(tenant, 3.0) == 15.0
    assert quiet_window(TenantRecord(id="t", name="T"), 3.0) == 3.0
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert burst_due_at(start, start + timedelta(seconds=1), 3, 15) == start + timedelta(seconds=4)
    late = start + timedelta(seconds=14)
    assert burst_due_at(start, late, 3, 15) == start + timedelta(seconds=15)


def test_a_long_reply_is_split_at_sentences(
    post: Post, twilio: FakeTwilio, wa_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentences = [f"Esta es la oración número {i} de una respuesta larga." for i in range(80)]
    long_text = " ".join(sentences)

    async def long_reply(*args: Any, **kwargs: Any) -> GraphReply:
        return GraphReply(long_text, ("envios",))

    monkeypatch.setattr("server.queued_turns.run_graph", long_reply)
    post(HOOK, form("SMl1", "cuéntame todo"))
    wait_until(lambda: all_done(wa_client) and turns(wa_client))
    parts = twilio.bodies()[1:]
    assert len(parts) == 3 and all(len(p) <= 1600 for p in parts)
    assert all(p.endswith("larga.") for p in parts)
    assert " ".join(parts) == long_text
