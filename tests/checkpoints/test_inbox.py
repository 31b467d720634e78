"""The inbox, queued turns and outbound bookkeeping; claims across connections."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from checkpoints.claims import CLAIM_NAMESPACE, LocalClaims, PostgresClaims
from checkpoints.database import utc_now
from checkpoints.inbox import InboundMessage, Inbox, OutboundDraft
from checkpoints.persistence import Persistence
from checkpoints.records import TenantRecord
from checkpoints.service import ServiceStore


@pytest.fixture
async def inbox(persistence: Persistence, service: ServiceStore) -> Inbox:
    await service.create_tenant(TenantRecord(id="acme", name="Acme"))
    return Inbox(persistence.db)


def message(sid: str, body: str = "hola", address: str = "+521", **kw: object) -> InboundMessage:
    return InboundMessage(external_id=sid, address=address, body=body, **kw)  # type: ignore[arg-type]


async def test_receive_is_idempotent_and_groups_a_customer(inbox: Inbox) -> None:
    first = await inbox.receive("acme", message("SM1"))
    assert first is not None
    assert await inbox.receive("acme", message("SM1", "otra vez")) is None
    second = await inbox.receive("acme", message("SM2", media=("https://m/1",)))
    other = await inbox.receive("acme", message("SM3", address="+522"))
    assert second is not None and other is not None
    assert second.conversation_id == first.conversation_id != other.conversation_id
    pending = (await inbox.work("acme", first.conversation_id, utc_now())).pending
    assert [(m.body, m.kind, m.media) for m in pending] == [
        ("hola", "text", ()),
        ("hola", "media", ("https://m/1",)),
    ]
    queued = {q.conversation_id: q for q in await inbox.queued()}
    assert set(queued) == {first.conversation_id, other.conversation_id}
    burst = queued[first.conversation_id]
    assert burst.first_at is not None and burst.last_at is not None
    assert burst.first_at <= burst.last_at and not burst.unfinished


async def test_a_turn_takes_its_messages_and_later_ones_stay_pending(inbox: Inbox) -> None:
    receipt = await inbox.receive("acme", message("SM1"))
    assert receipt is not None
    conversation = receipt.conversation_id
    taken = [m.id for m in (await inbox.work("acme", conversation, utc_now())).pending]
    turn = await inbox.start_turn("acme", conversation, taken)
    await inbox.receive("acme", message("SM2", "y otra cosa"))
    assert [m.body for m in (await inbox.work("acme", conversation, utc_now())).pending] == [
        "y otra cosa"
    ]
    assert [m.turn_id for m in await inbox.turn_messages(turn.id)] == [turn.id]
    assert (await inbox.work("acme", conversation, utc_now())).unfinished == turn
    assert any(q.unfinished for q in await inbox.queued())


async def test_outbound_is_recorded_once_and_only_moves_forward(
    inbox: Inbox, service: ServiceStore
) -> None:
    receipt = await inbox.receive("acme", message("SM1"))
    assert receipt is not None
    conversation = receipt.conversation_id
    turn = await inbox.start_turn("acme", conversation, [receipt.message_id])
    drafts = [OutboundDraft("welcome", "¡Hola!"), OutboundDraft("reply", "Sí.", ("faq",))]
    recorded = await inbox.record_outbound(
        turn, drafts, status="submitting", handoff_reasons=["explicit"]
    )
    assert [(m.seq, m.kind, m.body, m.sources) for m in recorded] == [
        (0, "welcome", "¡Hola!", ()),
        (1, "reply", "Sí.", ("faq",)),
    ]
    assert await inbox.record_outbound(turn, drafts, status="submitting") == []
    handed = await service.get_conversation("acme", conversation)
    assert handed is not None and handed.status == "pending"
    assert handed.handoff_reasons == ("explicit",)
    assert [m.id for m in await inbox.unsent("acme", conversation)] == [m.id for m in recorded]
    await inbox.mark_sent(recorded[0].id, "SMout1", "queued")
    await inbox.mark_failed(recorded[1].id, "twilio 400: bad number")
    assert await inbox.unsent("acme", conversation) == []
    assert await inbox.record_delivery("acme", "SMout1", "delivered") is True
    assert await inbox.record_delivery("acme", "SMout1", "delivered") is False
    assert await inbox.record_delivery("acme", "SMout1", "sent") is False
    assert await inbox.record_delivery("acme", "SMnope", "sent") is None
    statuses = [m.status for m in await inbox.turn_messages(turn.id)]
    assert statuses == ["received", "delivered", "failed"]
    await inbox.finish_turn(turn.id)
    assert (await inbox.work("acme", conversation, utc_now())).unfinished is None


async def test_counts_for_throttling_and_welcome(inbox: Inbox) -> None:
    since = utc_now() - timedelta(minutes=1)
    receipt = await inbox.receive("acme", message("SM1"))
    assert receipt is not None
    conversation = receipt.conversation_id
    await inbox.receive("acme", message("SM2"))
    assert (await inbox.work("acme", conversation, since)).recent_inbound == 2
    assert not await inbox.has_written_to("acme", "whatsapp", "+521")
    turn = await inbox.start_turn("acme", conversation, [receipt.message_id])
    await inbox.record_outbound(turn, [OutboundDraft("throttle_notice", "…")], status="recorded")
    assert await inbox.has_written_to("acme", "whatsapp", "+521")
    assert await inbox.sent_kind_since("acme", conversation, "throttle_notice", since)
    assert not await inbox.sent_kind_since("acme", conversation, "media_notice", since)


async def test_retry_counts_attempts(inbox: Inbox) -> None:
    receipt = await inbox.receive("acme", message("SM1"))
    assert receipt is not None
    turn = await inbox.start_turn("acme", receipt.conversation_id, [receipt.message_id])
    again = await inbox.retry_turn(turn)
    assert (again.id, again.attempts) == (turn.id, 2)


async def test_local_claims_are_exclusive() -> None:
    claims = LocalClaims()
    async with claims.hold("c1") as first, claims.hold("c1") as second, claims.hold("c2") as other:
        assert (bool(first), bool(second), bool(other)) == (True, False, True)
    async with claims.hold("c1") as again:
        assert again


@pytest.mark.postgres
async def test_postgres_claims_hold_across_connections_until_released_or_dead(
    fresh_postgres_url: str,
) -> None:
    one = await PostgresClaims.open(fresh_postgres_url, 2)
    two = await PostgresClaims.open(fresh_postgres_url, 2)
    try:
        async with one.hold("conv") as held:
            assert held
            async with two.hold("conv") as contended, two.hold("other") as free:
                assert (bool(contended), bool(free)) == (False, True)
        async with two.hold("conv", [("SELECT :x AS x", {"x": 7})]) as released:
            assert released and released.rows == [[{"x": 7}]] and released.db is not None
        # another process takes it and dies without unlocking: Postgres frees it
        dying = await psycopg.AsyncConnection.connect(fresh_postgres_url, autocommit=True)
        await dying.execute(
            "SELECT pg_advisory_lock(%s::int, hashtext(%s))", (CLAIM_NAMESPACE, "conv")
        )
        async with one.hold("conv") as taken:
            assert not taken
        await dying.close()
        for _ in range(100):  # the server notices the closed connection within moments
            async with one.hold("conv") as after_death:
                if after_death:
                    break
            await asyncio.sleep(0.05)
        assert after_death
    finally:
        await two.close()
        await one.close()


async def test_the_outbox_is_due_when_its_oldest_message_is(inbox: Inbox) -> None:
    """Messages wait behind a postponed one (the customer reads them in order): the
    conversation is not due again before the postponed message is."""
    receipt = await inbox.receive("acme", message("SM1"))
    assert receipt is not None
    conversation = receipt.conversation_id
    turn = await inbox.start_turn("acme", conversation, [receipt.message_id])
    drafts = [OutboundDraft("welcome", "¡Hola!"), OutboundDraft("reply", "Sí.")]
    welcome, reply = await inbox.record_outbound(turn, drafts, status="pending")
    await inbox.finish_turn(turn.id)
    retry_at = utc_now() + timedelta(seconds=30)
    await inbox.postpone(welcome.id, "twilio 503", retry_at, finish_turn=None)
    [queued] = await inbox.queued()
    assert queued.outbox_due_at == retry_at and not queued.unfinished
    unsent = await inbox.unsent("acme", conversation)
    assert [(m.id, m.status, m.send_attempts, m.error) for m in unsent] == [
        (welcome.id, "submitting", 1, "twilio 503"),
        (reply.id, "pending", 0, None),
    ]
    await inbox.mark_sent(welcome.id, "SMw", "queued", note=None)
    [queued] = await inbox.queued()
    assert queued.outbox_due_at == reply.created_at
    assert (await inbox.unsent("acme", conversation))[0].id == reply.id
    assert [m.error for m in await inbox.turn_messages(turn.id)][1] == "twilio 503"  # kept
