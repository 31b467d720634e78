"""The summarizer keeps the customer's long-term memory; provider failures never lose a turn."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.runtime import ExecutionInfo, Runtime
from langgraph.store.base import Result
from langgraph.store.memory import InMemoryStore

from checkpoints.memory import CustomerMemory
from graph.context import TenantContext
from graph.state import ConversationState
from nodes.summarizer import remember_conversation, summarizer
from tools import llm

ANA = "cli:ana"
FIRST_TURN = [HumanMessage("Hola, soy Ana López"), AIMessage("¡Hola! ¿En qué te ayudo?")]
SECOND_TURN = [HumanMessage("mi pedido 4411 no ha llegado"), AIMessage("Lo reviso.")]


class FlakyChat(BaseChatModel):
    """Fails `failures` times, then answers `reply`."""

    failures: int
    reply: str = "Ana espera su pedido 4411."
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "flaky"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("provider down")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply))])


class BrokenStore(InMemoryStore):
    async def abatch(self, ops: Any) -> list[Result]:
        raise ConnectionError("store down")

    def batch(self, ops: Any) -> list[Result]:
        raise ConnectionError("store down")


def runtime_for(
    store: InMemoryStore | None, thread: str = "conv-1", **context: Any
) -> Runtime[TenantContext]:
    info = ExecutionInfo(checkpoint_id="cp", checkpoint_ns="", task_id="t", thread_id=thread)
    return Runtime(
        context=TenantContext(tenant_id="shop", **context), store=store, execution_info=info
    )


async def test_each_turn_remembers_what_the_customer_said(offline: None) -> None:
    store = InMemoryStore()
    runtime = runtime_for(store)
    await summarizer(ConversationState(messages=FIRST_TURN, customer=ANA), runtime)
    update = await summarizer(
        ConversationState(messages=FIRST_TURN + SECOND_TURN, customer=ANA, turns=1), runtime
    )
    assert update == {"turns": 2}
    profile = await CustomerMemory(store).profile("shop", ANA)
    assert profile.facts["name"].value == "Ana López"
    assert [o.value for o in profile.orders] == ["4411"]
    assert profile.issues == {"delivery": 1}
    assert not await CustomerMemory(store).profile("other", ANA)


async def test_due_summary_is_stored_as_running_memory(offline: None) -> None:
    store = InMemoryStore()
    runtime = runtime_for(store, summary_every=2)
    update = await summarizer(
        ConversationState(messages=FIRST_TURN + SECOND_TURN, customer=ANA, turns=1), runtime
    )
    [stored] = await CustomerMemory(store).summaries("shop", ANA)
    assert stored.text == update["summary"] and "pedido 4411" in stored.text
    assert stored.conversation_id == "conv-1" and not stored.closed and stored.turns == 2


async def test_without_customer_or_store_nothing_is_written(offline: None) -> None:
    store = InMemoryStore()
    await summarizer(ConversationState(messages=FIRST_TURN), runtime_for(store))
    assert await store.asearch(("memory",), limit=5) == []
    assert await summarizer(
        ConversationState(messages=FIRST_TURN, customer=ANA), runtime_for(None)
    ) == {"turns": 1}


async def test_provider_failure_is_retried_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = FlakyChat(failures=1)
    monkeypatch.setattr(llm, "get_chat_model", lambda *a, **k: model)
    update = await summarizer(
        ConversationState(messages=FIRST_TURN + SECOND_TURN, handoff=True), runtime_for(None)
    )
    assert update["summary"] == "Ana espera su pedido 4411." and model.calls == 2
    assert [r.message for r in caplog.records if r.levelno == logging.WARNING] == [
        "summarizer_llm_failed"
    ]


async def test_provider_down_falls_back_to_extractive_summary(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = FlakyChat(failures=10)
    monkeypatch.setattr(llm, "get_chat_model", lambda *a, **k: model)
    store = InMemoryStore()
    update = await summarizer(
        ConversationState(messages=FIRST_TURN + SECOND_TURN, customer=ANA, handoff=True),
        runtime_for(store),
    )
    assert model.calls == 2
    assert "mi pedido 4411 no ha llegado" in update["summary"]
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "summarizer_llm_failed",
        "summarizer_llm_failed",
        "summarizer_fallback_extractive",
    ]
    [stored] = await CustomerMemory(store).summaries("shop", ANA)
    assert stored.text == update["summary"]


async def test_store_failure_never_loses_the_turn(
    offline: None, caplog: pytest.LogCaptureFixture
) -> None:
    update = await summarizer(
        ConversationState(messages=FIRST_TURN + SECOND_TURN, customer=ANA, handoff=True),
        runtime_for(BrokenStore()),
    )
    assert update["turns"] == 1 and "pedido 4411" in update["summary"]
    assert "memory_write_failed" in [r.message for r in caplog.records]


async def test_remember_conversation_writes_final_summary_and_every_fact(fake_chat) -> None:  # type: ignore[no-untyped-def]
    fake_chat("Ana López preguntó por su pedido 4411, que no ha llegado.")
    store = InMemoryStore()
    handed = [
        HumanMessage("prefiero que me llamen por la tarde"),
        AIMessage("Claro.", name="agent"),
    ]
    summary, usage = await remember_conversation(
        store,
        "shop",
        ANA,
        "conv-1",
        FIRST_TURN + SECOND_TURN + handed,
        language="es",
        observed_at=datetime(2026, 1, 1, tzinfo=UTC),
        close_reason="resolved",
    )
    assert summary.closed and summary.text.startswith("Ana López preguntó")
    assert usage == []  # the fake model reports no usage
    memory = CustomerMemory(store)
    assert [s.text for s in await memory.summaries("shop", ANA)] == [summary.text]
    facts = {k: f.value for k, f in (await memory.profile("shop", ANA)).facts.items()}
    assert facts == {"name": "Ana López", "contact_time": "por la tarde", "language": "es"}
