"""`ServiceStore` on both backends: every method, its error cases, and its races."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest

from checkpoints.records import TenantRecord
from checkpoints.service import (
    ConversationNotFound,
    OpenConversationExists,
    ServiceStore,
    TenantExists,
    TenantNotFound,
)

ACME = TenantRecord(
    id="acme",
    name="Acme",
    company_name="Acme S.A.",
    persona="Eres breve.",
    welcome_message="¡Hola!",
    default_language="es",
    handoff_message="Te paso con una persona.",
    settings={"handoff": {"sentiment_threshold": -0.4, "keywords": ["agente"]}},
)


@pytest.fixture
async def acme(service: ServiceStore) -> TenantRecord:
    return await service.create_tenant(ACME)


# tenants


async def test_create_and_get_tenant(service: ServiceStore) -> None:
    created = await service.create_tenant(ACME)
    assert created.id == "acme"
    assert created.settings == ACME.settings
    assert created.enabled is True
    assert created.created_at.tzinfo is not None
    assert created.created_at.utcoffset() == timedelta(0)
    assert created.created_at == created.updated_at
    assert await service.get_tenant("acme") == created
    assert await service.get_tenant("nobody") is None


async def test_create_tenant_twice_raises(service: ServiceStore, acme: TenantRecord) -> None:
    with pytest.raises(TenantExists, match="acme"):
        await service.create_tenant(TenantRecord(id="acme", name="Other"))
    assert (await service.get_tenant("acme")) == acme


async def test_list_tenants_by_id(service: ServiceStore) -> None:
    assert await service.list_tenants() == []
    for tenant_id in ("zeta", "demo", "acme"):
        await service.create_tenant(TenantRecord(id=tenant_id, name=tenant_id.title()))
    assert [t.id for t in await service.list_tenants()] == ["acme", "demo", "zeta"]


async def test_update_tenant(service: ServiceStore, acme: TenantRecord) -> None:
    updated = await service.update_tenant(
        "acme", {"persona": "Eres formal.", "enabled": False, "settings": {"x": [1, 2]}}
    )
    assert updated is not None
    assert (updated.persona, updated.enabled, updated.settings) == (
        "Eres formal.",
        False,
        {"x": [1, 2]},
    )
    assert updated.name == acme.name
    assert updated.created_at == acme.created_at
    assert updated.updated_at > acme.updated_at
    assert await service.get_tenant("acme") == updated


async def test_update_tenant_errors(service: ServiceStore, acme: TenantRecord) -> None:
    assert await service.update_tenant("nobody", {"name": "x"}) is None
    with pytest.raises(ValueError, match="id"):
        await service.update_tenant("acme", {"id": "evil"})
    with pytest.raises(ValueError, match="created_at"):
        await service.update_tenant("acme", {"created_at": "x", "name": "y"})
    with pytest.raises(ValueError, match="settings"):
        await service.update_tenant("acme", {"settings": ["not", "an", "object"]})
    assert await service.get_tenant("acme") == acme


async def test_delete_tenant_cascades(service: ServiceStore, acme: TenantRecord) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+5215500000001")
    await service.add_message(
        "acme", conversation.id, direction="inbound", author="customer", body="hola"
    )
    await service.create_tenant(TenantRecord(id="demo", name="Demo"))
    other = await service.open_conversation("demo", "whatsapp", "+5215500000001")
    await service.add_message("demo", other.id, direction="inbound", author="customer", body="hi")

    assert await service.delete_tenant("acme") is True
    assert await service.delete_tenant("acme") is False
    assert await service.get_tenant("acme") is None
    assert await service.get_conversation("acme", conversation.id) is None
    assert await service.count_messages("acme") == 0
    assert await service.count_messages("demo") == 1


# conversations


async def test_open_conversation_creates_then_returns_the_open_one(
    service: ServiceStore, acme: TenantRecord
) -> None:
    first = await service.open_conversation("acme", "whatsapp", "+5215512345678")
    assert first.status == "bot"
    assert first.handoff_reasons == ()
    assert len(first.id) == 12 and first.id.isalnum()
    assert await service.open_conversation("acme", "whatsapp", "+5215512345678") == first
    assert (await service.open_conversation("acme", "cli", "+5215512345678")).id != first.id
    assert (await service.open_conversation("acme", "whatsapp", "+5215599999999")).id != first.id


async def test_open_conversation_after_close_starts_a_new_one(
    service: ServiceStore, acme: TenantRecord
) -> None:
    first = await service.open_conversation("acme", "whatsapp", "+1")
    await service.set_conversation_status("acme", first.id, "closed")
    second = await service.open_conversation("acme", "whatsapp", "+1")
    assert second.id != first.id
    assert second.status == "bot"
    # the closed one cannot be re-opened while the customer has another open conversation
    with pytest.raises(OpenConversationExists):
        await service.set_conversation_status("acme", first.id, "bot")
    assert (await service.get_conversation("acme", first.id)).status == "closed"  # type: ignore[union-attr]


async def test_open_conversation_is_race_safe(service: ServiceStore, acme: TenantRecord) -> None:
    opened = await asyncio.gather(
        *(service.open_conversation("acme", "whatsapp", "+1") for _ in range(12))
    )
    assert len({c.id for c in opened}) == 1
    assert len(await service.list_conversations("acme")) == 1


async def test_open_conversation_for_unknown_tenant(service: ServiceStore) -> None:
    with pytest.raises(TenantNotFound, match="ghost"):
        await service.open_conversation("ghost", "whatsapp", "+1")


async def test_get_conversation_is_scoped_by_tenant(
    service: ServiceStore, acme: TenantRecord
) -> None:
    await service.create_tenant(TenantRecord(id="demo", name="Demo"))
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    assert await service.get_conversation("acme", conversation.id) == conversation
    assert await service.get_conversation("demo", conversation.id) is None
    assert await service.get_conversation("acme", "missing") is None


async def test_list_conversations_newest_first_with_filter_and_paging(
    service: ServiceStore, acme: TenantRecord
) -> None:
    ids = [(await service.open_conversation("acme", "whatsapp", f"+{i}")).id for i in range(5)]
    # activity on the oldest one makes it the newest
    await service.add_message("acme", ids[0], direction="inbound", author="customer", body="?")
    await service.set_conversation_status("acme", ids[2], "pending", ["sentiment"])
    listed = [c.id for c in await service.list_conversations("acme")]
    assert listed == [ids[2], ids[0], ids[4], ids[3], ids[1]]
    assert [c.id for c in await service.list_conversations("acme", limit=2, offset=1)] == [
        ids[0],
        ids[4],
    ]
    assert [c.id for c in await service.list_conversations("acme", status="pending")] == [ids[2]]
    assert await service.list_conversations("acme", status="human") == []
    assert await service.list_conversations("nobody") == []
    with pytest.raises(ValueError, match="status"):
        await service.list_conversations("acme", status="open")  # type: ignore[arg-type]


async def test_set_conversation_status_and_reasons(
    service: ServiceStore, acme: TenantRecord
) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    pending = await service.set_conversation_status(
        "acme", conversation.id, "pending", ["sentiment", "explicit"]
    )
    assert pending is not None
    assert pending.status == "pending"
    assert pending.handoff_reasons == ("sentiment", "explicit")
    assert pending.updated_at > conversation.updated_at
    human = await service.set_conversation_status("acme", conversation.id, "human")
    assert human is not None and human.handoff_reasons == ("sentiment", "explicit")  # kept
    back = await service.set_conversation_status("acme", conversation.id, "bot", [])
    assert back is not None and (back.status, back.handoff_reasons) == ("bot", ())


async def test_set_conversation_status_errors(service: ServiceStore, acme: TenantRecord) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    assert await service.set_conversation_status("acme", "missing", "human") is None
    assert await service.set_conversation_status("other", conversation.id, "human") is None
    with pytest.raises(ValueError, match="status"):
        await service.set_conversation_status("acme", conversation.id, "open")  # type: ignore[arg-type]
    assert (await service.get_conversation("acme", conversation.id)) == conversation


# messages


async def test_add_and_list_messages_in_order(service: ServiceStore, acme: TenantRecord) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    inbound = await service.add_message(
        "acme",
        conversation.id,
        direction="inbound",
        author="customer",
        body="¿Horario?",
        external_id="SM0001",
    )
    outbound = await service.add_message(
        "acme",
        conversation.id,
        direction="outbound",
        author="bot",
        body="9 a 18 h",
        sources=["doc-horario", "doc-faq"],
    )
    agent = await service.add_message(
        "acme",
        conversation.id,
        direction="outbound",
        author="Lucía",
        body="Hola, soy Lucía",
        status="sent",
    )
    assert inbound is not None and outbound is not None and agent is not None
    assert (inbound.status, outbound.status, agent.status) == ("received", "queued", "sent")
    assert inbound.external_id == "SM0001" and outbound.external_id is None
    assert outbound.sources == ("doc-horario", "doc-faq")
    assert inbound.created_at.tzinfo == UTC
    assert inbound.id < outbound.id < agent.id
    assert await service.list_messages("acme", conversation.id) == [inbound, outbound, agent]
    assert await service.list_messages("acme", conversation.id, after_id=inbound.id) == [
        outbound,
        agent,
    ]
    assert await service.list_messages("acme", conversation.id, limit=1) == [inbound]
    assert await service.list_messages("acme", "missing") == []
    updated = await service.get_conversation("acme", conversation.id)
    assert updated is not None and updated.updated_at == agent.created_at


async def test_add_message_is_idempotent_on_external_id(
    service: ServiceStore, acme: TenantRecord
) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    first = await service.add_message(
        "acme",
        conversation.id,
        direction="inbound",
        author="customer",
        body="hola",
        external_id="SM42",
    )
    before = await service.get_conversation("acme", conversation.id)
    replay = await service.add_message(
        "acme",
        conversation.id,
        direction="inbound",
        author="customer",
        body="hola",
        external_id="SM42",
    )
    assert replay is None
    assert await service.count_messages("acme", conversation.id) == 1
    assert await service.get_conversation("acme", conversation.id) == before  # untouched
    assert await service.get_message_by_external_id("acme", "SM42") == first
    # the same external id is fine for another tenant
    await service.create_tenant(TenantRecord(id="demo", name="Demo"))
    other = await service.open_conversation("demo", "whatsapp", "+1")
    assert (
        await service.add_message(
            "demo",
            other.id,
            direction="inbound",
            author="customer",
            body="hola",
            external_id="SM42",
        )
        is not None
    )


async def test_concurrent_replays_record_one_message(
    service: ServiceStore, acme: TenantRecord
) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    results = await asyncio.gather(
        *(
            service.add_message(
                "acme",
                conversation.id,
                direction="inbound",
                author="customer",
                body="x",
                external_id="SMrace",
            )
            for _ in range(8)
        )
    )
    assert sum(r is not None for r in results) == 1
    assert await service.count_messages("acme") == 1


async def test_add_message_errors(service: ServiceStore, acme: TenantRecord) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    with pytest.raises(ConversationNotFound):
        await service.add_message(
            "acme", "missing", direction="inbound", author="customer", body="x"
        )
    await service.create_tenant(TenantRecord(id="demo", name="Demo"))
    with pytest.raises(ConversationNotFound):  # another tenant's conversation
        await service.add_message(
            "demo", conversation.id, direction="inbound", author="c", body="x"
        )
    with pytest.raises(ValueError, match="direction"):
        await service.add_message(
            "acme",
            conversation.id,
            direction="sideways",  # type: ignore[arg-type]
            author="c",
            body="x",
        )
    assert await service.count_messages("acme") == 0
    assert await service.count_messages("demo") == 0


async def test_update_message_and_delivery_status(
    service: ServiceStore, acme: TenantRecord
) -> None:
    conversation = await service.open_conversation("acme", "whatsapp", "+1")
    reply = await service.add_message(
        "acme", conversation.id, direction="outbound", author="bot", body="ok"
    )
    assert reply is not None
    sent = await service.update_message("acme", reply.id, status="sent", external_id="SMout1")
    assert sent is not None and (sent.status, sent.external_id) == ("sent", "SMout1")
    assert await service.set_message_status_by_external_id("acme", "SMout1", "delivered") is True
    assert await service.set_message_status_by_external_id("acme", "SMnone", "delivered") is False
    assert await service.set_message_status_by_external_id("demo", "SMout1", "failed") is False
    assert (await service.get_message_by_external_id("acme", "SMout1")).status == "delivered"  # type: ignore[union-attr]
    assert await service.update_message("acme", 999_999, status="sent") is None
    assert await service.update_message("demo", reply.id, status="failed") is None
    assert await service.update_message(
        "acme", reply.id
    ) == await service.get_message_by_external_id("acme", "SMout1")


async def test_count_messages(service: ServiceStore, acme: TenantRecord) -> None:
    one = await service.open_conversation("acme", "whatsapp", "+1")
    two = await service.open_conversation("acme", "whatsapp", "+2")
    for body in ("a", "b"):
        await service.add_message("acme", one.id, direction="inbound", author="customer", body=body)
    await service.add_message("acme", one.id, direction="outbound", author="bot", body="c")
    await service.add_message("acme", two.id, direction="inbound", author="customer", body="d")
    assert await service.count_messages("acme") == 4
    assert await service.count_messages("acme", one.id) == 3
    assert await service.count_messages("acme", one.id, direction="outbound") == 1
    assert await service.count_messages("acme", direction="inbound") == 3
    assert await service.count_messages("acme", "missing") == 0
    assert await service.count_messages("nobody") == 0
