"""Messages to a customer outside a bot turn (an agent's reply, the idle-release notice).

They take the bot's outbound path: recorded in the conversation first, split at WhatsApp's
1,600 characters, sent through the tenant's Twilio account with the channel's sender
(retries on 429/5xx), each part's status kept (`pending` -> `submitting` -> `queued`/...,
or `failed` with the error). Without a Twilio account, or on the `cli` channel, they are
only recorded (status `recorded`), like the bot's replies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from checkpoints.inbox import Inbox
from checkpoints.records import ConversationRecord, MessageRecord, TenantRecord
from server.channels.delivery import send_recorded
from server.channels.split import split_message
from server.channels.twilio_account import twilio_account
from server.services import Services

log = logging.getLogger(__name__)

CLAIM_WAIT_SECONDS = 10.0
CLAIM_POLL_SECONDS = 0.05


@asynccontextmanager
async def conversation_turn(
    services: Services, conversation_id: str, claims: Any = None
) -> AsyncIterator[None]:
    """Exclusive use of a conversation's thread: no graph run or recording at the same time.

    Holds the in-process turn lock (the `cli` chat path) and, given the worker's `claims`
    (`checkpoints.claims`), the conversation's claim across processes, waiting for it a few
    seconds. Raises `TimeoutError` when another process keeps it.
    """
    async with services.turn_lock(conversation_id):
        if claims is None:
            yield
            return
        deadline = asyncio.get_running_loop().time() + CLAIM_WAIT_SECONDS
        while True:
            async with claims.hold(conversation_id) as held:
                if held:
                    yield
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"conversation {conversation_id!r} is busy")
            await asyncio.sleep(CLAIM_POLL_SECONDS)


async def send_to_customer(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    body: str,
    *,
    author: str,
) -> list[MessageRecord]:
    """Record `body` as outbound messages by `author` and deliver them on the conversation's
    channel; the recorded parts, with their delivery status."""
    account = twilio_account(tenant, services.settings)
    sends = conversation.channel == "whatsapp" and account.can_send
    store, inbox = services.store, Inbox(services.store.db)
    records: list[MessageRecord] = []
    for part in split_message(body):
        record = await store.add_message(
            tenant.id,
            conversation.id,
            direction="outbound",
            author=author,
            body=part,
            status="pending" if sends else "recorded",
        )
        assert record is not None  # no external id: never a replay
        records.append(record)
    if not sends:
        return records
    for record in records:
        await inbox.mark_submitting(record.id)
        await send_recorded(
            inbox, services.sender, account, services.settings, conversation, record
        )
    sent = await store.list_messages(tenant.id, conversation.id, after_id=records[0].id - 1)
    by_id = {m.id: m for m in sent}
    return [by_id.get(r.id, r) for r in records]
