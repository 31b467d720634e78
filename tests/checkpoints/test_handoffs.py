"""`HandoffStore` on SQLite and a fresh Postgres: one owner at a time, every change recorded,
the queue, and the notification outbox (claims, retries, giving up)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from checkpoints.handoffs import AssignedElsewhere, HandoffStore, NotHandedOver
from checkpoints.records import TenantRecord
from checkpoints.service import ConversationNotFound, ServiceStore

T0 = datetime(2025, 12, 22, 15, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def store(service: ServiceStore) -> HandoffStore:
    await service.create_tenant(TenantRecord(id="acme", name="Acme"))
    await service.create_tenant(TenantRecord(id="otra", name="Otra"))
    return HandoffStore(service.db)


async def open_conversation(service: ServiceStore, address: str = "+52155") -> str:
    return (await service.open_conversation("acme", "whatsapp", address)).id


async def test_lifecycle_records_who_why_and_when(
    service: ServiceStore, store: HandoffStore
) -> None:
    cid = await open_conversation(service)
    handoff = await store.open("acme", cid, ["sentiment", "explicit"], -0.8, at(0))
    assert handoff is not None and handoff.reasons == ("sentiment", "explicit")
    assert handoff.sentiment == pytest.approx(-0.8) and handoff.opened_at == at(0)
    assert await store.open("acme", cid, ["loop"], None, at(1)) == handoff  # idempotent
    conversation = await service.get_conversation("acme", cid)
    assert conversation is not None and conversation.status == "pending"
    assert conversation.handoff_reasons == ("sentiment", "explicit")

    taken = await store.assign("acme", cid, "laura", at(2), force=False)
    assert (taken.from_status, taken.to_status, taken.changed) == ("pending", "human", True)
    again = await store.assign("acme", cid, "laura", at(3), force=False)
    assert again.changed is False and again.handoff.agent_active_at == at(3)
    with pytest.raises(AssignedElsewhere):
        await store.agent_replied("acme", cid, "pedro", at(4))
    replied = await store.agent_replied("acme", cid, "laura", at(5))
    assert replied.handoff.agent_active_at == at(5) and replied.handoff.assigned_at == at(2)

    released = await store.release("acme", cid, "laura", "released", at(6))
    assert released.handoff.ended_at == at(6) and released.handoff.end_reason == "released"
    assert (await service.get_conversation("acme", cid)).status == "bot"  # type: ignore[union-attr]
    with pytest.raises(NotHandedOver) as refused:
        await store.release("acme", cid, "laura", "released", at(7))
    assert refused.value.status == "bot"
    with pytest.raises(NotHandedOver):
        await store.agent_replied("acme", cid, "laura", at(7))

    second = await store.open("acme", cid, ["loop"], None, at(8))
    assert second is not None and second.id != handoff.id
    assert [h.id for h in await store.history("acme", cid)] == [handoff.id, second.id]
    events = await store.events("acme", cid)
    assert [(e.from_status, e.to_status, e.actor, e.reason, e.created_at) for e in events] == [
        ("bot", "pending", "bot", "sentiment,explicit", at(0)),
        ("pending", "human", "laura", "assigned", at(2)),
        ("human", "bot", "laura", "released", at(6)),
        ("bot", "pending", "bot", "loop", at(8)),
    ]


async def test_tenants_are_kept_apart(service: ServiceStore, store: HandoffStore) -> None:
    cid = await open_conversation(service)
    await store.open("acme", cid, ["explicit"], None, at(0))
    for call in (
        store.assign("otra", cid, "x", at(1), force=True),
        store.agent_replied("otra", cid, "x", at(1)),
        store.release("otra", cid, "x", "released", at(1)),
        store.open("otra", cid, ["explicit"], None, at(1)),
    ):
        with pytest.raises(ConversationNotFound):
            await call
    assert await store.queue("otra") == []
    assert [q.conversation.id for q in await store.queue("acme")] == [cid]


async def test_only_one_agent_wins_a_race(service: ServiceStore, store: HandoffStore) -> None:
    cid = await open_conversation(service)
    await store.open("acme", cid, ["explicit"], None, at(0))
    results = await asyncio.gather(
        *(store.assign("acme", cid, f"agent{i}", at(1), force=False) for i in range(6)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, AssignedElsewhere) for r in results if r not in winners)
    taken = [e for e in await store.events("acme", cid) if e.to_status == "human"]
    assert len(taken) == 1


async def test_closed_conversations_are_not_handed_over(
    service: ServiceStore, store: HandoffStore
) -> None:
    cid = await open_conversation(service)
    await service.set_conversation_status("acme", cid, "closed")
    assert await store.open("acme", cid, ["explicit"], None, at(0)) is None
    with pytest.raises(NotHandedOver):
        await store.assign("acme", cid, "laura", at(1), force=True)


async def test_a_turn_that_only_set_the_status_is_caught_up(
    service: ServiceStore, store: HandoffStore
) -> None:
    cid = await open_conversation(service)
    await service.set_conversation_status("acme", cid, "pending", reasons=["fallbacks"])
    [missing] = await store.unrecorded()
    assert missing.id == cid and await store.queue("acme") == []
    handoff = await store.open("acme", cid, missing.handoff_reasons, None, at(0))
    assert handoff is not None and await store.unrecorded() == []
    assert [q.handoff.reasons for q in await store.queue("acme")] == [("fallbacks",)]
    other = await open_conversation(service, "+52166")
    await service.set_conversation_status("acme", other, "pending", reasons=["loop"])
    taken = await store.assign("acme", other, "laura", at(1), force=False)  # adopted on the way
    assert taken.handoff.reasons == ("loop",) and taken.to_status == "human"


async def test_queue_is_oldest_first_and_idle_release_checks_activity(
    service: ServiceStore, store: HandoffStore
) -> None:
    first, second = await open_conversation(service, "+1"), await open_conversation(service, "+2")
    await store.open("acme", second, ["explicit"], None, at(5))
    await store.open("acme", first, ["explicit"], None, at(1))
    assert [q.conversation.id for q in await store.queue("acme")] == [first, second]
    [stale, _] = await store.open_everywhere()
    await store.agent_replied("acme", first, "laura", at(10))
    with pytest.raises(NotHandedOver):  # an agent acted after the idle check read it
        await store.release("acme", first, "system", "idle", at(11), expected=stale.handoff)
    assert (await service.get_conversation("acme", first)).status == "human"  # type: ignore[union-attr]


async def test_reminders_once_per_idle_stretch(service: ServiceStore, store: HandoffStore) -> None:
    cid = await open_conversation(service)
    handoff = await store.open("acme", cid, ["explicit"], None, at(0))
    assert handoff is not None
    assert await store.remind(handoff, at(0), at(15), None) is True
    assert await store.remind(handoff, at(0), at(16), None) is False
    assert await store.remind(handoff, at(20), at(35), None) is True  # after new activity
    assert [e.kind for e in await store.events("acme", cid)] == ["status", "reminded", "reminded"]


async def test_notification_outbox(service: ServiceStore, store: HandoffStore) -> None:
    cid = await open_conversation(service)
    await store.open(
        "acme", cid, ["explicit"], None, at(0), notification=("handoff.created", {"x": 1})
    )
    [due] = await store.due_notifications(at(0))
    assert (due.event, due.payload, due.status, due.attempts) == (
        "handoff.created",
        {"x": 1},
        "pending",
        0,
    )
    assert await store.due_notifications(at(0), tenant_id="otra", conversation_id=cid) == []
    assert await store.claim_notification(due, at(0), at(1)) is True
    assert await store.claim_notification(due, at(0), at(1)) is False  # someone has it
    assert await store.due_notifications(at(0.5)) == []  # leased
    await store.notification_failed(due.id, "HTTP 500", at(0.1), at(2))
    [retry] = await store.due_notifications(at(2))
    assert retry.attempts == 1 and retry.error == "HTTP 500"
    assert await store.claim_notification(retry, at(2), at(3))
    await store.notification_failed(retry.id, "HTTP 502", at(2.1), None)
    [gave_up] = await store.notifications("acme", cid)
    assert (gave_up.status, gave_up.attempts, gave_up.error) == ("failed", 2, "HTTP 502")
    [failure] = [e for e in await store.events("acme", cid) if e.kind == "notify_failed"]
    assert failure.reason == "handoff.created after 2 attempts: HTTP 502"

    await store.release("acme", cid, "system", "idle", at(5), notification=("handoff.released", {}))
    [released] = await store.due_notifications(at(5))
    assert await store.claim_notification(released, at(5), at(6))
    await store.notification_sent(released.id, at(5.1))
    assert [n.status for n in await store.notifications("acme", cid)] == ["failed", "sent"]
    assert (await store.events("acme", cid))[-1].kind == "notified"
