from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.responder import NO_ANSWER, responder
from tools.knowledge.types import Passage

SHIPPING: Passage = {
    "document_id": "envios",
    "title": "Envíos",
    "chunk": 0,
    "score": 0.9,
    "text": "Hacemos envíos a todo México. El envío estándar tarda de 3 a 5 días hábiles y cuesta 99 pesos.",
}


def asking(text: str, **fields: object) -> ConversationState:
    return ConversationState(messages=[HumanMessage(text)], language="es", **fields)  # type: ignore[arg-type]


async def test_extractive_answer_cites_its_passage(
    offline: None, runtime: Runtime[TenantContext]
) -> None:
    update = await responder(asking("¿cuánto cuesta el envío?", passages=[SHIPPING]), runtime)
    assert "99 pesos" in update["messages"][0].content
    assert update["sources"] == ["envios"] and update["fallback_count"] == 0


async def test_fallback_is_counted_and_said(offline: None, runtime: Runtime[TenantContext]) -> None:
    update = await responder(asking("¿venden autos?", fallback_count=1), runtime)
    assert update["fallback_count"] == 2
    assert "no tengo información" in update["messages"][0].content


async def test_fallback_past_the_limit_stays_quiet_for_the_handoff(
    offline: None, runtime: Runtime[TenantContext]
) -> None:
    update = await responder(asking("¿venden autos?", fallback_count=2), runtime)
    assert update["fallback_count"] == 3 and "messages" not in update


async def test_greeting_and_emoji_are_small_talk(
    offline: None, runtime: Runtime[TenantContext]
) -> None:
    assert "Tienda Luna" in (await responder(asking("hola"), runtime))["messages"][0].content
    emoji = await responder(asking("👍"), runtime)
    assert "ayudarte" in emoji["messages"][0].content and "fallback_count" not in emoji


async def test_llm_answer_through_the_seam(fake_chat, runtime: Runtime[TenantContext]) -> None:  # type: ignore[no-untyped-def]
    fake_chat("El envío estándar cuesta 99 pesos.")
    update = await responder(asking("¿cuánto cuesta el envío?", passages=[SHIPPING]), runtime)
    assert update["messages"][0].content == "El envío estándar cuesta 99 pesos."
    assert update["sources"] == ["envios"]


async def test_llm_saying_no_answer_is_a_fallback(
    fake_chat, runtime: Runtime[TenantContext]
) -> None:  # type: ignore[no-untyped-def]
    fake_chat(NO_ANSWER)
    update = await responder(asking("¿venden autos?", passages=[SHIPPING]), runtime)
    assert update["fallback_count"] == 1 and update["sources"] == []


async def test_llm_failure_apologises(monkeypatch, runtime: Runtime[TenantContext]) -> None:  # type: ignore[no-untyped-def]
    from tools import llm

    class Broken(FakeListChatModel):
        async def _agenerate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise TimeoutError("provider down")

    monkeypatch.setattr(llm, "get_chat_model", lambda *a, **k: Broken(responses=["x"]))
    update = await responder(asking("¿cuánto cuesta el envío?", passages=[SHIPPING]), runtime)
    assert "problema técnico" in update["messages"][0].content
