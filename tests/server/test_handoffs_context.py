"""After a release the bot answers with the whole conversation: what the customer and the
agent said while a person owned it reaches the model (SQLite and a fresh Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from config.settings import Settings
from server.app import create_app
from tools import llm

ADMIN_KEY = "test-admin-key"
BASE = "/admin/tenants/demo"
AGENT_SAID = "Tu pedido 4411 se entrega el viernes por la tarde."


class RecordingChat(BaseChatModel):
    """A chat model that keeps every prompt it gets and answers with a fixed text."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)
    reply: str = "Abrimos de lunes a sábado de 9:00 a 19:00."

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, admin_key=ADMIN_KEY)) as test:
        yield test


def post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_release_gives_the_bot_the_agents_messages(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = f"{BASE}/chat"
    cid = post(client, chat, {"customer": "ana", "text": "quiero hablar con un humano"})[
        "conversation_id"
    ]
    post(client, chat, {"customer": "ana", "text": "es por mi pedido 4411"})
    post(client, f"{BASE}/conversations/{cid}/messages", {"agent": "Laura", "body": AGENT_SAID})
    post(client, f"{BASE}/conversations/{cid}/release", {"agent": "Laura"})

    model = RecordingChat(seen=[])
    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: model)
    turn = post(client, chat, {"customer": "ana", "text": "¿cuál es el horario de atención?"})
    assert turn["status"] == "bot" and turn["reply"]

    prompts = [p for p in model.seen if any(AGENT_SAID in m.text for m in p)]
    assert prompts, "the agent's reply never reached the model"
    prompt = prompts[0]
    said = [m.text for m in prompt]
    agent_at = next(i for i, text in enumerate(said) if AGENT_SAID in text)
    question_at = max(i for i, text in enumerate(said) if "horario de atención" in text)
    assert agent_at < question_at
    assert isinstance(prompt[agent_at], AIMessage)
    assert any(isinstance(m, HumanMessage) and "pedido 4411" in m.text for m in prompt)
