"""The outbox: a conversation's unsent outbound messages, delivered oldest first.

Bot replies, agents' messages and notices all leave through `deliver_in_order`, with the
conversation held (`Services.exclusive`, or the worker's claim), so no two processes send
the same message. A message whose send did not settle waits for its next attempt and the
ones after it wait behind it (the customer reads them in order); the worker picks them up
when they are due, after a restart too. A message that fails for good (Twilio refused it,
or its deadline passed) shows as `failed` in the conversation, and the conversation goes to
a person (handoff reason `error`): nothing is dropped without a trace.

Without a Twilio account, or on the `cli` channel, messages are only recorded (`recorded`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from checkpoints.database import utc_now
from checkpoints.inbox import Inbox
from checkpoints.records import ConversationRecord, MessageRecord, TenantRecord
from server.channels.delivery import deliver
from server.channels.split import split_message
from server.channels.twilio_account import twilio_account
from server.handoff_open import open_handoff
from server.services import Services

log = logging.getLogger(__name__)

ERROR_REASON = "error"


async def deliver_in_order(
    services: Services,
    inbox: Inbox,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
    *,
    fresh: bool = False,
    finish_turn: int | None = None,
) -> bool:
    """Deliver the conversation's unsent `messages`, oldest first, stopping at one that is
    not due yet or whose send did not settle (`fresh`: just written, never tried). With
    `finish_turn`, that turn is done afterwards. True when none is left waiting."""
    account = twilio_account(tenant, services.settings)
    now = utc_now()
    failed = finished = False
    settled = True
    for index, message in enumerate(messages):
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            settled = False
            break
        last = index == len(messages) - 1
        delivery = await deliver(
            inbox,
            services.sender,
            account,
            services.settings,
            conversation,
            message,
            fresh=fresh,
            finish_turn=finish_turn if last else None,
        )
        finished = last
        failed = failed or delivery.outcome == "failed"
        if delivery.outcome == "postponed":
            settled = False
            break
    if finish_turn is not None and not finished:
        await inbox.finish_turn(finish_turn)
    if failed:
        await open_handoff(services, tenant, conversation.id, [ERROR_REASON])
    return settled


async def send_to_customer(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    body: str,
    *,
    author: str,
) -> list[MessageRecord]:
    """Record `body` as outbound messages by `author` (split at WhatsApp's 1,600 characters)
    and deliver them after any earlier unsent ones; the recorded parts, with their status.
    Call it holding the conversation (`Services.exclusive`)."""
    account = twilio_account(tenant, services.settings)
    sends = conversation.channel == "whatsapp" and account.can_send
    inbox = Inbox(services.store.db)
    records: list[MessageRecord] = []
    for part in split_message(body):
        record = await services.store.add_message(
            tenant.id,
            conversation.id,
            direction="outbound",
            author=author,
            body=part,
            status="pending" if sends else "recorded",
        )
        assert record is not None  # no external id: never a replay
        records.append(record)
    if not sends or not records:
        return records
    unsent = await inbox.unsent(tenant.id, conversation.id)
    await deliver_in_order(services, inbox, tenant, conversation, unsent)
    first = records[0].id - 1
    sent = await services.store.list_messages(tenant.id, conversation.id, after_id=first)
    by_id = {m.id: m for m in sent}
    return [by_id.get(r.id, r) for r in records]
