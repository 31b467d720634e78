"""Turns in LLM mode against a fake OpenAI-compatible server on loopback: the customer's
reply does not wait for the summary, the summary keeps to the turn's budget, and every LLM
call (responder, summaries in turns and at close) is in the tenant's usage (SQLite, and
Postgres in CI)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakes.openai_server import Answer, FakeOpenAIServer, Hang
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from fastapi.testclient import TestClient
from twilio_support import ADMIN_KEY, PUBLIC_BASE_URL, form

from config.settings import Settings, get_settings
from server.app import create_app
from server.channels.twilio_inbound import sign
from tools.llm import close_llm_clients, warm_up_llm

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
HOOK = "/webhooks/whatsapp/demo"
BASE = "/admin/tenants/demo"
BUDGET = 4.0
REPLY_TOKENS = (120, 30)
SUMMARY_TOKENS = (200, 40)


def write_config(server: FakeOpenAIServer, path: Path) -> Path:
    """`responder` on route `replies`, `summarizer` on route `summaries`; no retries."""

    def deployment(group: str, route: str) -> dict[str, Any]:
        params = {
            "model": "openai/gpt-4o-mini",
            "api_base": server.base(route),
            "api_key": "test-key",
            "timeout": 30,
            "max_retries": 0,
        }
        return {"model_name": group, "litellm_params": params}

    config = {
        "model_list": [deployment("responder", "replies"), deployment("summarizer", "summaries")],
        "router_settings": {"num_retries": 0},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def reply(text: str, source: str) -> Answer:
    body = json.dumps({"kind": "answer", "reply": text, "sources": [source]})
    return Answer(body, *REPLY_TOKENS)


@pytest.fixture
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        fake.always("replies", reply("Atendemos de lunes a viernes de 9:00 a 18:00.", "horarios"))
        fake.always("summaries", Answer("Ana pidió el horario y se le dio.", *SUMMARY_TOKENS))
        yield fake


@pytest.fixture
async def llm_settings(
    wa_settings: Settings,
    llm: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Settings]:
    config = write_config(llm, tmp_path / "llm.yaml")
    monkeypatch.setenv("LITELLM_CONFIG", str(config))
    monkeypatch.setenv("LLM_MODE", "llm")
    monkeypatch.setenv("TURN_BUDGET_SECONDS", str(BUDGET))
    get_settings.cache_clear()
    await warm_up_llm()
    yield wa_settings.model_copy(
        update={"llm_mode": "llm", "litellm_config": config, "turn_budget_seconds": BUDGET}
    )
    await close_llm_clients()
    get_settings.cache_clear()


def test_the_handoff_notice_goes_out_before_a_slow_summary(
    llm_settings: Settings, llm: FakeOpenAIServer, twilio: FakeTwilio
) -> None:
    """The handoff turn's summary hangs: the customer already has the notice while it is
    being written, and the summary gives up at the turn's deadline (one attempt, then the
    extractive one), not after two full budgets."""
    llm.always("summaries", Hang(30))
    with TestClient(create_app(llm_settings, admin_key=ADMIN_KEY)) as client:
        params = form("SM" + "1" * 32, "quiero hablar con un asesor")
        signature = sign(twilio.auth_token, PUBLIC_BASE_URL + HOOK, params)
        sent = client.post(HOOK, data=params, headers={"X-Twilio-Signature": signature})
        assert sent.status_code == 200
        wait_until(lambda: any("persona" in body for body in twilio.bodies()), timeout=30)
        services = client.app.state.services  # type: ignore[attr-defined]
        [conversation] = client.get(f"{BASE}/conversations", headers=AUTH).json()["conversations"]
        config = {"configurable": {"thread_id": conversation["id"]}}
        assert client.portal is not None
        before = client.portal.call(services.graph.aget_state, config).values
        assert not before.get("summary")  # the notice went out first

        def summarized() -> str:
            values = client.portal.call(services.graph.aget_state, config).values
            return str(values.get("summary") or "")

        assert wait_until(summarized, timeout=30).startswith("Cliente")  # extractive
        assert len(llm.requests("summaries")) == 1  # no second try past the deadline
        [item] = wait_until(lambda: client.get(f"{BASE}/handoffs", headers=AUTH).json()["handoffs"])
        assert item["reasons"] == ["explicit"] and item["summary"].startswith("Cliente")


def test_usage_adds_up_to_every_llm_call(llm_settings: Settings, llm: FakeOpenAIServer) -> None:
    """Five answered turns (the fifth refreshes the summary) and a close (the final summary):
    the usage report counts each call the provider answered, with its tokens."""
    questions = [
        "¿cuál es el horario de atención?",
        "¿abren los sábados?",
        "¿a qué hora cierran entre semana?",
        "¿atienden en días festivos?",
        "¿a qué hora abren el sábado?",
    ]
    with TestClient(create_app(llm_settings, admin_key=ADMIN_KEY)) as client:
        for question in questions:
            turn = client.post(
                f"{BASE}/chat", json={"customer": "ana", "text": question}, headers=AUTH
            )
            assert turn.status_code == 200, turn.text
        conversation_id = turn.json()["conversation_id"]
        closed = client.post(f"{BASE}/conversations/{conversation_id}/close", headers=AUTH)
        assert closed.status_code == 200 and closed.json()["summary"].startswith("Ana pidió")
        replies, summaries = len(llm.requests("replies")), len(llm.requests("summaries"))
        assert summaries == 2 and replies >= 1  # the fifth turn's summary, the final one
        totals = client.get(f"{BASE}/usage", headers=AUTH).json()["totals"]
    assert totals["calls"] == replies + summaries
    assert totals["input_tokens"] == replies * REPLY_TOKENS[0] + summaries * SUMMARY_TOKENS[0]
    assert totals["output_tokens"] == replies * REPLY_TOKENS[1] + summaries * SUMMARY_TOKENS[1]
