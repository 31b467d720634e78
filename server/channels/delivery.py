"""The one exactly-once sender: one recorded outbound message through Twilio, and how it went.

A message goes out at most once: when an earlier attempt may have sent it (its status is
`submitting`), it is looked up at Twilio first. A send that does not settle (Twilio slow,
down, answering 5xx) is postponed with backoff, until `OUTBOUND_DEADLINE_SECONDS` after the
message was written; then, like a send Twilio refuses, it is `failed`, with the error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from checkpoints.database import utc_now
from checkpoints.inbox import Inbox
from checkpoints.records import ConversationRecord, MessageRecord
from config.settings import Settings
from server.channels.twilio_account import TwilioAccount
from server.channels.twilio_outbound import TwilioSender

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one send went: `sent`, `failed` (for good) or `postponed` (tried again later)."""

    outcome: Literal["sent", "failed", "postponed"]
    error: str | None = None


def status_callback_url(settings: Settings, tenant_id: str) -> str | None:
    """Where Twilio posts delivery statuses (None without a public URL)."""
    if not settings.public_base_url:
        return None
    return f"{settings.public_base_url.rstrip('/')}/webhooks/whatsapp/{tenant_id}/status"


def retry_delay(rounds: int) -> timedelta:
    """How long a postponed message waits after `rounds` earlier postponements."""
    return timedelta(seconds=min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**rounds))


async def deliver(
    inbox: Inbox,
    sender: TwilioSender,
    account: TwilioAccount,
    settings: Settings,
    conversation: ConversationRecord,
    message: MessageRecord,
    *,
    fresh: bool = False,
    finish_turn: int | None = None,
) -> Delivery:
    """Send `message` (`pending`, or `submitting`: `fresh` when this process just wrote it
    and has not tried it) and record the outcome (with `finish_turn`, that turn is done)."""
    ids = {"tenant_id": conversation.tenant_id, "conversation_id": conversation.id}
    if not account.can_send:
        error = "no Twilio account configured"
        await inbox.mark_failed(message.id, error, finish_turn=finish_turn)
        return Delivery("failed", error)
    if message.status == "pending":
        await inbox.mark_submitting(message.id)
    tried = message.status == "submitting" and not fresh

    async def is_other(sid: str) -> bool:
        owner = await inbox.external_id_owner(conversation.tenant_id, sid)
        return owner is not None and owner != message.id

    result = await sender.send(
        account,
        conversation.address,
        message.body,
        status_callback_url(settings, conversation.tenant_id),
        sent_since=message.created_at if tried else None,
        is_other=is_other,
    )
    if result.ok:
        assert result.sid is not None
        await inbox.mark_sent(
            message.id, result.sid, result.status, note=result.error, finish_turn=finish_turn
        )
        return Delivery("sent")
    error = result.error or "send failed"
    now = utc_now()
    deadline = message.created_at + timedelta(seconds=settings.outbound_deadline_seconds)
    if result.final or now >= deadline:
        if not result.final:
            error = f"gave up after {message.send_attempts + 1} rounds of attempts: {error}"
        await inbox.mark_failed(message.id, error, finish_turn=finish_turn)
        log.warning("outbound_failed", extra={**ids, "error": error})
        return Delivery("failed", error)
    retry_at = min(now + retry_delay(message.send_attempts), deadline)
    await inbox.postpone(message.id, error, retry_at, finish_turn=finish_turn)
    log.warning("outbound_postponed", extra={**ids, "error": error})
    return Delivery("postponed", error)
