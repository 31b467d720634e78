"""Who owns a conversation: the handoff lifecycle as the routes and the periodic jobs use it.

    bot --(a trigger fired)--> pending --(assign / an agent replies)--> human
    pending | human --(release, or idle too long)--> bot

The status lives in the `conversations` table (the one switch every turn reads: while it
is not `bot` the bot stays silent and only records); `checkpoints.handoffs` records every
change with who, why and when. An agent's reply goes into the LangGraph thread too, so the
bot has the whole conversation when it gets it back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langchain_core.messages import AIMessage

from checkpoints.database import utc_now
from checkpoints.handoffs import HandoffRecord, NotHandedOver, Transition
from checkpoints.records import ConversationRecord, MessageRecord, TenantRecord
from checkpoints.service import ConversationNotFound
from server.graph_runs import thread_config
from server.handoff_notify import HandoffPolicy, deliver_due_notifications, notify_in_background
from server.handoff_open import handoffs, open_handoff, thread_values
from server.outbox import send_to_customer
from server.periodic import run_every
from server.services import Services
from server.tenant_context import business_hours

log = logging.getLogger(__name__)

RELEASE_NOTICE = {
    "es": (
        "Disculpa la espera: ahora no hay nadie de nuestro equipo disponible. "
        "Sigo atendiéndote yo; ¿en qué te puedo ayudar?"
    ),
    "en": (
        "Sorry for the wait: nobody on our team is available right now. "
        "I'll keep helping you here; what can I do for you?"
    ),
}
RELEASE_NOTICE_NAME = "release"
"""`name` of the release notice in the thread (named AI messages are not the bot's answers)."""
HANDOFF_JOBS_EVERY_SECONDS = 30.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def thread_name(agent: str) -> str:
    """An agent's name as a chat-message `name` (LLM APIs accept only [A-Za-z0-9_-])."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", agent) if not unicodedata.combining(ch)
    )
    return _UNSAFE_NAME.sub("_", plain).strip("_")[:64] or "agent"


async def add_to_thread(services: Services, conversation_id: str, message: AIMessage) -> None:
    """Append a message to the thread without running the graph (hold the conversation)."""
    await services.graph.aupdate_state(
        thread_config(conversation_id), {"messages": [message]}, as_node="summarizer"
    )


async def assign(
    services: Services, tenant: TenantRecord, conversation_id: str, agent: str, *, force: bool
) -> Transition:
    """An agent takes the conversation (raises `NotHandedOver`, `AssignedElsewhere`)."""
    transition = await handoffs(services).assign(
        tenant.id, conversation_id, agent, utc_now(), force=force
    )
    log.info("handoff_assigned", extra={"tenant_id": tenant.id, "conversation_id": conversation_id})
    return transition


@dataclass(frozen=True)
class AgentReply:
    """An agent's message: the ownership after it and the recorded (and sent) parts."""

    transition: Transition
    messages: list[MessageRecord] = field(default_factory=list)


async def agent_reply(
    services: Services, tenant: TenantRecord, conversation_id: str, agent: str, body: str
) -> AgentReply:
    """An agent writes to the customer: the agent owns the conversation from now (taking it
    when pending), the message goes into the thread and out through the channel.

    Raises `NotHandedOver` (the bot owns it), `AssignedElsewhere`, `ConversationNotFound`,
    `ConversationBusy` (a turn kept the conversation).
    """
    async with services.exclusive(conversation_id):
        transition = await handoffs(services).agent_replied(
            tenant.id, conversation_id, agent, utc_now()
        )
        conversation = await services.store.get_conversation(tenant.id, conversation_id)
        if conversation is None:
            raise ConversationNotFound(tenant.id, conversation_id)
        message = AIMessage(content=body, name=thread_name(agent))
        await add_to_thread(services, conversation_id, message)
        records = await send_to_customer(services, tenant, conversation, body, author=agent)
    log.info("agent_replied", extra={"tenant_id": tenant.id, "conversation_id": conversation_id})
    return AgentReply(transition, records)


async def release(
    services: Services, tenant: TenantRecord, conversation_id: str, actor: str
) -> Transition:
    """Give the conversation back to the bot (raises `NotHandedOver`)."""
    transition = await handoffs(services).release(
        tenant.id, conversation_id, actor, "released", utc_now()
    )
    log.info("handoff_released", extra={"tenant_id": tenant.id, "conversation_id": conversation_id})
    return transition


@dataclass
class IdleOutcome:
    """What one pass of `release_idle_handoffs` did (conversation ids)."""

    reminded: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


async def release_idle_handoffs(services: Services, now: datetime) -> IdleOutcome:
    """Remind, then give back to the bot, the handoffs nobody on the team has touched for the
    tenant's `reminder_minutes` / `release_minutes` (defaults 15 and 60; 0 turns one off).

    Idle time counts from the last agent action (taking it, replying), and only while the
    business is open: a handoff made at night waits for the morning. A customer left waiting
    (never answered, or with the last word) is told the bot is back. Safe to run on every
    replica at once; call it every minute or so.
    """
    store = handoffs(services)
    outcome = IdleOutcome()
    tenants: dict[str, TenantRecord | None] = {}
    for item in await store.open_everywhere():
        tenant_id = item.handoff.tenant_id
        if tenant_id not in tenants:
            tenants[tenant_id] = await services.store.get_tenant(tenant_id)
        tenant = tenants[tenant_id]
        if tenant is None:
            continue
        opened_since = business_hours(tenant).open_since(now)
        if opened_since is None:
            continue
        idle_since = max(item.handoff.agent_active_at, opened_since)
        idle = (now - idle_since).total_seconds()
        policy = HandoffPolicy.of(tenant)
        if policy.release_seconds and idle >= policy.release_seconds:
            if await _release_idle(services, tenant, item.conversation, item.handoff, now):
                outcome.released.append(item.conversation.id)
        elif policy.reminder_seconds and idle >= policy.reminder_seconds:
            notification = None
            if policy.notifies:
                notification = ("handoff.reminder", _reminder_payload(item, idle))
            if await store.remind(item.handoff, idle_since, now, notification):
                outcome.reminded.append(item.conversation.id)
                if notification is not None:
                    notify_in_background(services, tenant.id, item.conversation.id, now)
    return outcome


async def _release_idle(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    handoff: HandoffRecord,
    now: datetime,
) -> bool:
    store = handoffs(services)
    policy = HandoffPolicy.of(tenant)
    notification = None
    if policy.notifies:
        payload = {
            "customer": {"channel": conversation.channel, "address": conversation.address},
            "agent": handoff.agent,
            "reason": "idle",
            "status": "bot",
        }
        notification = ("handoff.released", payload)
    waiting = (
        conversation.status == "pending"
        or await store.last_direction(tenant.id, conversation.id) == "inbound"
    )
    try:
        await store.release(
            tenant.id,
            conversation.id,
            "system",
            "idle",
            now,
            notification=notification,
            expected=handoff,
        )
    except NotHandedOver:  # an agent acted (or someone released it) in the meantime
        return False
    log.info(
        "handoff_idle_released", extra={"tenant_id": tenant.id, "conversation_id": conversation.id}
    )
    if notification is not None:
        notify_in_background(services, tenant.id, conversation.id, now)
    if waiting:
        async with services.exclusive(conversation.id):
            values = await thread_values(services, conversation.id)
            language = str(values.get("language") or tenant.default_language)
            text = RELEASE_NOTICE.get(language, RELEASE_NOTICE["es"])
            notice = AIMessage(content=text, name=RELEASE_NOTICE_NAME)
            await add_to_thread(services, conversation.id, notice)
            await send_to_customer(services, tenant, conversation, text, author="bot")
    return True


def _reminder_payload(item: Any, idle: float) -> dict[str, Any]:
    conversation, handoff = item.conversation, item.handoff
    return {
        "customer": {"channel": conversation.channel, "address": conversation.address},
        "reasons": list(handoff.reasons),
        "status": conversation.status,
        "agent": handoff.agent,
        "idle_seconds": round(idle),
    }


async def record_unrecorded_handoffs(
    services: Services, now: datetime, tenant_id: str | None = None
) -> int:
    """Open (and notify) the handoff of every conversation a turn handed over without one."""
    count = 0
    tenants: dict[str, TenantRecord | None] = {}
    for conversation in await handoffs(services).unrecorded(tenant_id=tenant_id):
        if conversation.tenant_id not in tenants:
            tenants[conversation.tenant_id] = await services.store.get_tenant(
                conversation.tenant_id
            )
        tenant = tenants[conversation.tenant_id]
        if tenant is None:
            continue
        opened = min(now, conversation.updated_at)
        reasons = list(conversation.handoff_reasons)
        if await open_handoff(services, tenant, conversation.id, reasons, now=opened):
            count += 1
    return count


async def run_handoff_jobs(services: Services, now: datetime | None = None) -> dict[str, Any]:
    """Everything periodic about handoffs, in one call: catch up unrecorded handoffs, retry
    due webhook notifications, remind and release idle handoffs."""
    now = now or utc_now()
    recorded = await record_unrecorded_handoffs(services, now)
    notified = await deliver_due_notifications(services, now)
    idle = await release_idle_handoffs(services, now)
    return {
        "recorded": recorded,
        "notified": notified,
        "reminded": idle.reminded,
        "released": idle.released,
    }


def handoff_jobs(
    services: Services, every_seconds: float = HANDOFF_JOBS_EVERY_SECONDS
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """Run `run_handoff_jobs` every `every_seconds` while inside."""
    return run_every("handoff_jobs", every_seconds, lambda: run_handoff_jobs(services))
