"""The retriever recalls the customer's memory (profile + relevant summaries) for the responder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import ExecutionInfo, Runtime
from langgraph.store.memory import InMemoryStore

from checkpoints.memory import ConversationSummary, CustomerMemory
from graph.context import TenantContext
from graph.state import ConversationState
from nodes.recall import MEMORY_TOKEN_BUDGET, estimate_tokens, recall
from nodes.retriever import retriever

pytestmark = pytest.mark.usefixtures("knowledge")
ANA = "whatsapp:+5215512345678"
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def runtime_for(store: InMemoryStore | None, tenant: str = "shop") -> Runtime[TenantContext]:
    info = ExecutionInfo(checkpoint_id="cp", checkpoint_ns="", task_id="t", thread_id="now")
    return Runtime(context=TenantContext(tenant_id=tenant), store=store, execution_info=info)


@pytest.fixture
async def store() -> InMemoryStore:
    store = InMemoryStore()
    memory = CustomerMemory(store)
    await memory.remember_facts(
        "shop",
        ANA,
        conversation_id="old",
        observed_at=T0,
        facts={"name": "Ana López", "contact_time": "por la tarde"},
        orders=[("order", "4411")],
        issues=["delivery"],
    )
    await memory.put_summary(
        "shop",
        ANA,
        ConversationSummary(
            "old", "Ana preguntó por su pedido 4411 que no llegaba.", T0, closed=True
        ),
    )
    await memory.put_summary("shop", ANA, ConversationSummary("now", "THIS CONVERSATION", T0))
    return store


def ask(text: str, customer: str = ANA) -> ConversationState:
    return ConversationState(messages=[HumanMessage(text)], customer=customer)


async def test_recalls_profile_and_earlier_summaries(store: InMemoryStore) -> None:
    update = await retriever(ask("¿y mi pedido?"), runtime_for(store))
    memory = update["memory"]
    assert "Name: Ana López" in memory and "4411" in memory and "por la tarde" in memory
    assert "Ana preguntó por su pedido 4411" in memory
    assert "THIS CONVERSATION" not in memory  # the current thread's own summary is left out
    assert "passages" in update and "nothing_relevant" in update


async def test_memory_is_per_tenant_and_per_customer(store: InMemoryStore) -> None:
    assert (await retriever(ask("¿y mi pedido?"), runtime_for(store, "other")))["memory"] == ""
    assert (await retriever(ask("¿y mi pedido?", ANA + "0"), runtime_for(store)))["memory"] == ""
    assert (await retriever(ask("¿y mi pedido?", ""), runtime_for(store)))["memory"] == ""
    assert (await retriever(ask("¿y mi pedido?"), runtime_for(None)))["memory"] == ""


async def test_most_relevant_summaries_within_the_budget() -> None:
    store = InMemoryStore()
    memory = CustomerMemory(store)
    filler = (
        "El cliente saludó y preguntó por el horario de la tienda y por los días festivos. " * 3
    )
    for n in range(30):
        await memory.put_summary(
            "shop", ANA, ConversationSummary(f"c{n}", f"{filler}({n})", T0 + timedelta(days=n))
        )
    refund = (
        "El cliente pidió la devolución de una licuadora defectuosa y el reembolso a su tarjeta."
    )
    await memory.put_summary("shop", ANA, ConversationSummary("refund", refund, T0))
    text = await recall(store, "shop", ANA, "¿ya procesaron mi reembolso de la licuadora?")
    assert estimate_tokens(text) <= MEMORY_TOKEN_BUDGET
    lines = text.splitlines()
    assert lines[0] == "Earlier conversations (most relevant first):"
    assert refund in lines[1]  # the oldest, but the most relevant
    assert 1 < len(lines) - 1 < 31


async def test_a_failing_store_does_not_stop_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(InMemoryStore):
        async def abatch(self, ops):  # type: ignore[no-untyped-def]
            raise ConnectionError("store down")

    update = await retriever(ask("¿cuánto cuesta el envío?"), runtime_for(Broken()))
    assert update["memory"] == "" and update["passages"][0]["document_id"] == "envios"
    assert "memory_recall_failed" in [r.message for r in caplog.records]
