from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.summarizer import summarizer

MESSAGES = [
    HumanMessage("¿dónde está mi pedido 4411?"),
    AIMessage("Lo reviso."),
    HumanMessage("sigo esperando"),
]


async def test_counts_turns_and_summarizes_when_due(offline: None) -> None:
    runtime = Runtime(context=TenantContext(summary_every=2))
    assert await summarizer(ConversationState(messages=MESSAGES, turns=0), runtime) == {"turns": 1}
    update = await summarizer(ConversationState(messages=MESSAGES, turns=1), runtime)
    assert update["turns"] == 2
    assert "pedido 4411" in update["summary"] and "sigo esperando" in update["summary"]


async def test_always_summarizes_on_handoff(offline: None, runtime: Runtime[TenantContext]) -> None:
    update = await summarizer(ConversationState(messages=MESSAGES, handoff=True), runtime)
    assert "pedido 4411" in update["summary"]


async def test_llm_summary_through_the_seam(fake_chat, runtime: Runtime[TenantContext]) -> None:  # type: ignore[no-untyped-def]
    fake_chat("El cliente espera su pedido 4411.")
    update = await summarizer(ConversationState(messages=MESSAGES, handoff=True), runtime)
    assert update["summary"] == "El cliente espera su pedido 4411."
