"""Sending one recorded outbound message through Twilio and recording how it went."""

from __future__ import annotations

import logging

from checkpoints.inbox import Inbox
from checkpoints.records import ConversationRecord, MessageRecord
from config.settings import Settings
from server.channels.twilio_account import TwilioAccount
from server.channels.twilio_outbound import TwilioSender

log = logging.getLogger(__name__)


def status_callback_url(settings: Settings, tenant_id: str) -> str | None:
    """Where Twilio posts delivery statuses (None without a public URL)."""
    if not settings.public_base_url:
        return None
    return f"{settings.public_base_url.rstrip('/')}/webhooks/whatsapp/{tenant_id}/status"


async def send_recorded(
    inbox: Inbox,
    sender: TwilioSender,
    account: TwilioAccount,
    settings: Settings,
    conversation: ConversationRecord,
    message: MessageRecord,
    *,
    finish_turn: int | None = None,
) -> None:
    """Send `message` (already marked submitting) and mark it sent or failed (and, with
    `finish_turn`, that turn done)."""
    callback = status_callback_url(settings, conversation.tenant_id)
    result = await sender.send(account, conversation.address, message.body, callback)
    if result.sid is not None:
        await inbox.mark_sent(message.id, result.sid, result.status, finish_turn=finish_turn)
        return
    await inbox.mark_failed(message.id, result.error or "send failed", finish_turn=finish_turn)
    log.warning(
        "outbound_failed",
        extra={
            "tenant_id": conversation.tenant_id,
            "conversation_id": conversation.id,
            "error": result.error,
        },
    )
