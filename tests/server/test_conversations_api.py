"""Chat turns through the HTTP API, recorded in the conversations API; bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient

CHAT = "/admin/tenants/demo/chat"


def say(client: TestClient, admin: dict[str, str], text: str, customer: str = "ana") -> dict:
    response = client.post(CHAT, json={"customer": customer, "text": text}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_answers_from_the_knowledge_base_then_hands_off(
    client: TestClient, admin: dict[str, str]
) -> None:
    greeting = say(client, admin, "hola")
    assert "Tienda Luna" in greeting["reply"]
    hours = say(client, admin, "¿cuál es el horario de atención?")
    assert "9:00" in hours["reply"] and hours["sources"] == ["horarios"]
    assert hours["handoff"] is False
    handoff = say(client, admin, "quiero hablar con un humano")
    assert handoff["handoff"] is True and handoff["reason"] == "explicit request"
    assert handoff["status"] == "pending"
    silent = say(client, admin, "¿hola? ¿alguien?")
    assert silent["reply"] == "" and silent["status"] == "pending"


def test_conversation_is_listed_with_its_messages(
    client: TestClient, admin: dict[str, str]
) -> None:
    say(client, admin, "¿aceptan devoluciones?", customer="luis")
    listed = client.get("/admin/tenants/demo/conversations", headers=admin).json()["conversations"]
    assert [(c["customer"], c["channel"], c["status"]) for c in listed] == [("luis", "cli", "bot")]
    detail = client.get(
        f"/admin/tenants/demo/conversations/{listed[0]['id']}", headers=admin
    ).json()
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]
    assert detail["messages"][1]["sources"] == ["devoluciones"]
    assert "30 días" in detail["messages"][1]["body"]
    assert (
        client.get("/admin/tenants/demo/conversations?status=human", headers=admin).json()[
            "conversations"
        ]
        == []
    )
    assert (
        client.get("/admin/tenants/demo/conversations?status=nope", headers=admin).status_code
        == 422
    )
    assert client.get("/admin/tenants/demo/conversations/nope", headers=admin).status_code == 404


def test_bad_messages_get_a_clear_4xx_or_a_polite_reply(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert "ayudarte" in say(client, admin, "")["reply"]
    assert "ayudarte" in say(client, admin, "👍👍🙂")["reply"]
    huge = client.post(CHAT, json={"customer": "x", "text": "a" * 10_000_000}, headers=admin)
    assert huge.status_code == 422
    not_utf8 = client.post(
        CHAT,
        content=b'{"customer": "x", "text": "\xff\xfe hola"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert not_utf8.status_code in (400, 422)
    assert "detail" in not_utf8.json()
    oversized = client.post(
        CHAT, content=b"x" * 70_000_000, headers={**admin, "Content-Type": "application/json"}
    )
    assert oversized.status_code == 413
    assert client.get("/health").status_code == 200


def test_unknown_question_is_an_honest_fallback(client: TestClient, admin: dict[str, str]) -> None:
    turn = say(client, admin, "¿quién ganó el mundial de fútbol de 1986?")
    assert "no tengo información" in turn["reply"]
    assert turn["sources"] == [] and turn["handoff"] is False
