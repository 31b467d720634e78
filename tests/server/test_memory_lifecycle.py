"""Conversations end, are remembered, recalled, kept for the retention period and erased —
on SQLite and on a fresh Postgres database (the server `settings` fixture)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from fakes.recording_chat import RecordingChat
from langchain_core.runnables import RunnableConfig
from memory_support import customer_turn

from checkpoints.database import utc_now
from checkpoints.lifecycle import ConversationLifecycle
from checkpoints.memory import CustomerMemory, customer_key, memory_namespace
from checkpoints.records import TenantRecord
from checkpoints.service import ConversationNotFound, TenantNotFound
from config.settings import Settings
from server.lifecycle import (
    ConversationAlreadyClosed,
    CustomerNotFound,
    InvalidCloseReason,
    apply_retention,
    close_conversation,
    close_idle_conversations,
    erase_customer,
    export_customer,
)
from server.services import Services, open_services
from tools import llm

PHONE = "+5215512345678"
ANA = customer_key("whatsapp", PHONE)
FIRST = "Hola, soy Ana López. Mi pedido 4411 no ha llegado."
SUMMARY = "Ana López reportó que su pedido 4411 no ha llegado; quedó en revisión."


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> RecordingChat:
    recording = RecordingChat(
        replies=["Lo siento, Ana. Ya reviso tu pedido.", "Ana, tu pedido 4411 va en camino."],
        summary=SUMMARY,
    )
    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: recording)
    return recording


def thread(conversation_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": conversation_id}}


async def remembered_conversation(services: Services) -> str:
    first = await customer_turn(services, "demo", "whatsapp", PHONE, FIRST)
    closed = await close_conversation(services, "demo", first.conversation_id, "resolved")
    assert closed.remembered and closed.summary == SUMMARY
    return first.conversation_id


async def test_second_conversation_starts_with_name_and_order(
    settings: Settings, model: RecordingChat
) -> None:
    async with open_services(settings) as services:
        first_id = await remembered_conversation(services)
        second = await customer_turn(services, "demo", "whatsapp", PHONE, "¿y mi pedido?")
        assert second.conversation_id != first_id  # a new conversation, a new thread
        first_state = await services.graph.aget_state(thread(first_id))
        assert len(first_state.values["messages"]) == 2  # the old thread is untouched
    assert "Ana López" in second.values["memory"] and "4411" in second.values["memory"]
    asked = model.responder_prompts()[-1]
    assert "¿y mi pedido?" in asked
    assert "4411" in asked and "Ana López" in asked  # what reached the model
    assert SUMMARY in asked


async def test_the_reply_uses_the_remembered_order(
    settings: Settings, model: RecordingChat
) -> None:
    async with open_services(settings) as services:
        await remembered_conversation(services)
        second = await customer_turn(services, "demo", "whatsapp", PHONE, "¿y mi pedido?")
    assert "4411" in second.reply and "Ana" in second.reply


async def test_the_same_phone_at_another_tenant_shares_nothing(
    settings: Settings, model: RecordingChat
) -> None:
    async with open_services(settings) as services:
        await services.store.create_tenant(TenantRecord(id="acme", name="Acme"))
        await remembered_conversation(services)
        elsewhere = await customer_turn(services, "acme", "whatsapp", PHONE, "¿y mi pedido?")
        memory = CustomerMemory(services.persistence.store)
        assert not await memory.profile("acme", ANA)
        assert await memory.summaries("acme", ANA) == []
    assert elsewhere.values["memory"] == ""
    assert all("4411" not in p and "Ana" not in p for p in model.responder_prompts()[1:])


async def test_close_errors(settings: Settings, model: RecordingChat) -> None:
    async with open_services(settings) as services:
        turn = await customer_turn(services, "demo", "cli", "ana", "hola")
        with pytest.raises(InvalidCloseReason):
            await close_conversation(services, "demo", turn.conversation_id, "bored")
        with pytest.raises(TenantNotFound):
            await close_conversation(services, "nope", turn.conversation_id)
        with pytest.raises(ConversationNotFound):
            await close_conversation(services, "demo", "unknown")
        outcomes = await asyncio.gather(
            close_conversation(services, "demo", turn.conversation_id),
            close_conversation(services, "demo", turn.conversation_id),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == [
            "ClosedConversation",
            "ConversationAlreadyClosed",
        ]
        with pytest.raises(ConversationAlreadyClosed):
            await close_conversation(services, "demo", turn.conversation_id)


async def test_summary_provider_down_still_closes_and_remembers(
    settings: Settings, model: RecordingChat, caplog: pytest.LogCaptureFixture
) -> None:
    model.fail_summaries = True
    async with open_services(settings) as services:
        first = await customer_turn(services, "demo", "whatsapp", PHONE, FIRST)
        closed = await close_conversation(services, "demo", first.conversation_id)
        record = await ConversationLifecycle(services.persistence.db).get(
            "demo", closed.conversation_id
        )
        summaries = await CustomerMemory(services.persistence.store).summaries("demo", ANA)
        messages = await services.store.list_messages("demo", first.conversation_id)
    assert closed.remembered and FIRST in closed.summary  # the extractive fallback
    assert record is not None and record.conversation.status == "closed" and record.remembered_at
    assert [s.text for s in summaries] == [closed.summary] and len(messages) == 2
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings.count("summarizer_llm_failed") == 2
    assert "summarizer_fallback_extractive" in warnings


async def test_memory_write_failure_is_retried_by_the_periodic_job(
    settings: Settings, model: RecordingChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def store_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("store down")

    async with open_services(settings) as services:
        first = await customer_turn(services, "demo", "whatsapp", PHONE, FIRST)
        with monkeypatch.context() as patched:
            patched.setattr(CustomerMemory, "put_summary", store_down)
            closed = await close_conversation(services, "demo", first.conversation_id)
        assert not closed.remembered
        lifecycle = ConversationLifecycle(services.persistence.db)
        assert [r.id for r in await lifecycle.to_remember()] == [first.conversation_id]
        assert await close_idle_conversations(services) == []  # nothing idle; retries memory
        assert await lifecycle.to_remember() == []
        summaries = await CustomerMemory(services.persistence.store).summaries("demo", ANA)
    assert [s.text for s in summaries] == [SUMMARY]


async def test_idle_conversations_close_after_the_tenant_idle_time(
    settings: Settings, model: RecordingChat
) -> None:
    async with open_services(settings) as services:
        old = await customer_turn(services, "demo", "whatsapp", PHONE, FIRST)
        fresh = await customer_turn(services, "demo", "cli", "bob", "hola")
        now = utc_now()
        await services.persistence.db.execute(
            "UPDATE conversations SET updated_at = :at WHERE id = :id",
            {"at": now - timedelta(hours=25), "id": old.conversation_id},
        )
        closed = await close_idle_conversations(services, now)
        assert [(c.conversation_id, c.reason) for c in closed] == [(old.conversation_id, "idle")]
        tenant = await services.store.get_tenant("demo")
        assert tenant is not None
        await services.store.update_tenant(
            "demo", {"settings": {**tenant.settings, "lifecycle": {"idle_hours": 0.5}}}
        )
        later = await close_idle_conversations(services, now + timedelta(hours=1))
        assert [c.conversation_id for c in later] == [fresh.conversation_id]
        again = await customer_turn(services, "demo", "whatsapp", PHONE, "¿y mi pedido?")
    assert again.conversation_id not in (old.conversation_id, fresh.conversation_id)
    assert "4411" in again.values["memory"]


async def test_retention_deletes_old_threads_only(settings: Settings, model: RecordingChat) -> None:
    async with open_services(settings) as services:
        old = await customer_turn(services, "demo", "whatsapp", PHONE, FIRST)
        await close_conversation(services, "demo", old.conversation_id)
        recent = await customer_turn(services, "demo", "whatsapp", PHONE, "¿y mi pedido?")
        await close_conversation(services, "demo", recent.conversation_id)
        now = utc_now()
        await services.persistence.db.execute(
            "UPDATE conversations SET closed_at = :at WHERE id = :id",
            {"at": now - timedelta(days=31), "id": old.conversation_id},
        )
        assert await apply_retention(services, now) == 1
        assert await apply_retention(services, now) == 0
        saver = services.persistence.checkpointer
        assert await saver.aget_tuple(thread(old.conversation_id)) is None
        assert await saver.aget_tuple(thread(recent.conversation_id)) is not None
        record = await ConversationLifecycle(services.persistence.db).get(
            "demo", old.conversation_id
        )
        kept = await services.store.list_messages("demo", old.conversation_id)
        profile = await CustomerMemory(services.persistence.store).profile("demo", ANA)
        exported = await export_customer(services, "demo", PHONE)
    assert record is not None and record.thread_deleted_at is not None
    assert len(kept) == 2 and profile.facts["name"].value == "Ana López"
    by_id = {c["id"]: c for c in exported["conversations"]}
    assert by_id[old.conversation_id]["thread"] == [] and by_id[old.conversation_id]["messages"]
    assert len(by_id[recent.conversation_id]["thread"]) == 2


async def test_export_has_conversations_threads_and_memory(
    settings: Settings, model: RecordingChat
) -> None:
    async with open_services(settings) as services:
        first_id = await remembered_conversation(services)
        await customer_turn(services, "demo", "cli", PHONE, "hola")  # same address, another channel
        everything = await export_customer(services, "demo", PHONE)
        whatsapp = await export_customer(services, "demo", f"whatsapp:{PHONE}")
        with pytest.raises(CustomerNotFound):
            await export_customer(services, "demo", "+10000000000")
    assert [c["channel"] for c in everything["conversations"]] == ["whatsapp", "cli"]
    assert [c["id"] for c in whatsapp["conversations"]] == [first_id]
    first = whatsapp["conversations"][0]
    assert first["status"] == "closed" and first["close_reason"] == "resolved"
    assert first["messages"][0]["body"] == FIRST
    assert first["thread"][0] == {"type": "human", "name": None, "content": FIRST}
    keys = {item["key"] for item in whatsapp["memory"][ANA]}
    assert {"fact.name", "order.4411", f"summary.{first_id}"} <= keys
    assert everything["memory"][f"cli:{PHONE}"] == []  # nothing learned there yet


async def test_erasure_leaves_nothing_behind(settings: Settings, model: RecordingChat) -> None:
    async with open_services(settings) as services:
        await services.store.create_tenant(TenantRecord(id="acme", name="Acme"))
        first_id = await remembered_conversation(services)
        second = await customer_turn(services, "demo", "whatsapp", PHONE, "¿y mi pedido?")
        other = await customer_turn(services, "acme", "whatsapp", PHONE, FIRST)
        await close_conversation(services, "acme", other.conversation_id)
        bob = await customer_turn(services, "demo", "cli", "bob", "Soy Bob, mi pedido 9900")
        chunks_before = await asyncio.to_thread(services.knowledge.count, "demo")
        ids = [first_id, second.conversation_id]

        erased = await erase_customer(services, "demo", PHONE)

        assert (erased.conversations, erased.threads, erased.messages) == (2, 2, 4)
        assert erased.memory_items >= 3 and erased.knowledge_chunks == 0
        db, saver = services.persistence.db, services.persistence.checkpointer
        # the checkpointer: no checkpoint, blob or write of either thread
        tables = (
            ("checkpoints", "writes")
            if db.dialect == "sqlite"
            else ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        )
        for table in tables:
            for conversation_id in ids:
                row = await db.fetch_one(
                    f"SELECT COUNT(*) AS n FROM {table} WHERE thread_id = :id",
                    {"id": conversation_id},
                )
                assert row is not None and row["n"] == 0, table
            assert await saver.aget_tuple(thread(first_id)) is None
        # the store: nothing under the customer's namespace, at the SQL level too
        assert (
            await services.persistence.store.asearch(memory_namespace("demo", ANA), limit=50) == []
        )
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM store WHERE prefix = :prefix",
            {"prefix": ".".join(memory_namespace("demo", ANA))},
        )
        assert row is not None and row["n"] == 0
        # the service tables: every table with a conversation_id, and the conversations
        for table in await tables_with_column(services, "conversation_id"):
            for conversation_id in ids:
                row = await db.fetch_one(
                    f"SELECT COUNT(*) AS n FROM {table} WHERE conversation_id = :id",
                    {"id": conversation_id},
                )
                assert row is not None and row["n"] == 0, table
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM conversations WHERE tenant_id = 'demo' AND address = :a",
            {"a": PHONE},
        )
        assert row is not None and row["n"] == 0
        # the knowledge base (Qdrant): no chunk mentions the customer; tenant documents stay
        found = await asyncio.to_thread(
            services.knowledge.search, "demo", f"Ana López pedido 4411 {PHONE}", 20
        )
        assert all("4411" not in p["text"] and PHONE not in p["text"] for p in found)
        assert await asyncio.to_thread(services.knowledge.count, "demo") == chunks_before
        # others are untouched: the same phone at acme, and bob at demo
        memory = CustomerMemory(services.persistence.store)
        assert (await memory.profile("acme", ANA)).facts["name"].value == "Ana López"
        assert (await memory.profile("demo", "cli:bob")).orders[0].value == "9900"
        assert await services.store.get_conversation("demo", bob.conversation_id) is not None
        with pytest.raises(CustomerNotFound):
            await erase_customer(services, "demo", PHONE)


async def tables_with_column(services: Services, column: str) -> list[str]:
    db = services.persistence.db
    if db.dialect == "postgres":
        rows = await db.fetch_all(
            """SELECT table_name AS name FROM information_schema.columns
               WHERE table_schema = 'public' AND column_name = :column""",
            {"column": column},
        )
        return sorted(row["name"] for row in rows)
    names = [
        row["name"]
        for row in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    found = []
    for name in names:
        columns = await db.fetch_all(f"SELECT name FROM pragma_table_info('{name}')")
        if any(c["name"] == column for c in columns):
            found.append(name)
    return sorted(found)
