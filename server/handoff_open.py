"""The bot hands a conversation over: a handoff opened (status `pending` unless a person has
it already) and the tenant's webhook told (`handoff.created`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from checkpoints.database import utc_now
from checkpoints.handoffs import HandoffRecord, HandoffStore
from checkpoints.records import ConversationRecord, TenantRecord
from checkpoints.service import ConversationNotFound
from server.graph_runs import thread_config
from server.handoff_notify import HandoffPolicy, notify_in_background
from server.services import Services
from server.tenant_context import business_hours

log = logging.getLogger(__name__)


def handoffs(services: Services) -> HandoffStore:
    return HandoffStore(services.store.db)


async def thread_values(services: Services, conversation_id: str) -> dict[str, Any]:
    """The conversation's LangGraph state (empty before its first turn)."""
    snapshot = await services.graph.aget_state(thread_config(conversation_id))
    return dict(snapshot.values or {})


def created_payload(
    tenant: TenantRecord,
    conversation: ConversationRecord,
    reasons: list[str],
    sentiment: float | None,
    summary: str,
    now: datetime,
) -> dict[str, Any]:
    """The body of a `handoff.created` event (beside the ids every event has)."""
    hours = business_hours(tenant)
    opening = hours.next_opening(now)
    return {
        "customer": {"channel": conversation.channel, "address": conversation.address},
        "reasons": reasons,
        "sentiment": sentiment,
        "summary": summary,
        "status": "pending",
        "business_hours": {
            "open": hours.is_open(now),
            "next_opening": opening.isoformat() if opening else None,
        },
    }


async def open_handoff(
    services: Services,
    tenant: TenantRecord,
    conversation_id: str,
    reasons: Sequence[str],
    sentiment: float | None = None,
    *,
    now: datetime | None = None,
) -> HandoffRecord | None:
    """Record that the bot handed the conversation over (status `pending` unless a person
    already has it) and notify the tenant's webhook. Idempotent; None when it is closed.

    Call it right after a turn hands over; conversations a turn handed over without it are
    caught up by `ownership.record_unrecorded_handoffs`.
    """
    now = now or utc_now()
    conversation = await services.store.get_conversation(tenant.id, conversation_id)
    if conversation is None:
        raise ConversationNotFound(tenant.id, conversation_id)
    values = await thread_values(services, conversation_id)
    if sentiment is None and "sentiment_score" in values:
        sentiment = float(values["sentiment_score"])
    policy = HandoffPolicy.of(tenant)
    notification = None
    if policy.notifies:
        payload = created_payload(
            tenant, conversation, list(reasons), sentiment, str(values.get("summary", "")), now
        )
        notification = ("handoff.created", payload)
    handoff = await handoffs(services).open(
        tenant.id, conversation_id, list(reasons), sentiment, now, notification=notification
    )
    if handoff is not None:
        log.info(
            "handoff_opened",
            extra={"tenant_id": tenant.id, "conversation_id": conversation_id, "reasons": reasons},
        )
        if notification is not None:
            notify_in_background(services, tenant.id, conversation_id, now)
    return handoff
