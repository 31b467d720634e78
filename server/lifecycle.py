"""How conversations end and what is kept of customers: closing, idle closing, retention,
export and erasure.

- Closing marks the conversation `closed` (the customer's next message opens a new one,
  a new thread), then writes its final summary and facts to the customer's long-term
  memory. When that write fails the conversation stays closed and the write is retried by
  `close_idle_conversations` (nothing is lost: the thread and the messages are kept).
- Per-tenant settings live in `tenant.settings["lifecycle"]`: `idle_hours` (default 24)
  and `retention_days` (default 30: a closed conversation's thread is deleted that long
  after it ended; its messages and the customer's memory stay until erasure).
- Erasure deletes the customer's threads (checkpointer), memory (store) and conversations
  with their messages (service tables). The knowledge base (Qdrant) holds only tenant
  documents, never customer data, so there is nothing of a customer to delete there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from checkpoints.database import utc_now
from checkpoints.lifecycle import ConversationLifecycle, LifecycleRecord
from checkpoints.memory import ConversationSummary, CustomerMemory, customer_key
from checkpoints.records import TenantRecord
from checkpoints.service import ConversationNotFound, TenantNotFound
from checkpoints.usage import UsageStore
from nodes.summarizer import remember_conversation
from server.periodic import run_every
from server.services import Services

log = logging.getLogger(__name__)

CloseReason = Literal["resolved", "idle", "admin"]
CLOSE_REASONS: tuple[str, ...] = get_args(CloseReason)
DEFAULT_IDLE_HOURS = 24.0
DEFAULT_RETENTION_DAYS = 30.0
LIFECYCLE_EVERY_SECONDS = 300.0
_CHANNEL_PREFIX = re.compile(r"^(whatsapp|cli):(.+)$")


class ConversationAlreadyClosed(Exception):
    """The conversation is closed already (HTTP 409)."""

    def __init__(self, tenant_id: str, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} of tenant {tenant_id!r} is closed")
        self.tenant_id = tenant_id
        self.conversation_id = conversation_id


class InvalidCloseReason(ValueError):
    """Not one of `CLOSE_REASONS` (HTTP 422)."""


class CustomerNotFound(Exception):
    """The tenant has no conversation and no memory of this customer (HTTP 404)."""

    def __init__(self, tenant_id: str, customer: str) -> None:
        super().__init__(f"tenant {tenant_id!r} has no customer {customer!r}")
        self.tenant_id = tenant_id
        self.customer = customer


@dataclass(frozen=True)
class LifecycleSettings:
    """A tenant's idle time and retention period."""

    idle_hours: float = DEFAULT_IDLE_HOURS
    retention_days: float = DEFAULT_RETENTION_DAYS


@dataclass(frozen=True)
class ClosedConversation:
    """A conversation that was closed, and the summary written to the customer's memory."""

    tenant_id: str
    conversation_id: str
    reason: str
    closed_at: datetime
    summary: str
    remembered: bool


@dataclass(frozen=True)
class Erasure:
    """What erasing a customer deleted."""

    tenant_id: str
    customer: str
    conversations: int
    threads: int
    messages: int
    memory_items: int
    knowledge_chunks: int = 0
    """Always 0: the knowledge base holds tenant documents only, nothing per customer."""


def lifecycle_settings(tenant: TenantRecord) -> LifecycleSettings:
    """The tenant's `settings["lifecycle"]` over the defaults (bad values are ignored)."""
    raw = tenant.settings.get("lifecycle") or {}
    values: dict[str, float] = {}
    for name in ("idle_hours", "retention_days"):
        value = raw.get(name) if isinstance(raw, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            values[name] = float(value)
    return LifecycleSettings(**values)


def split_customer(customer: str, channel: str | None = None) -> tuple[str, str | None]:
    """(address, channel) of a customer given as `+52155...` or `whatsapp:+52155...`."""
    match = _CHANNEL_PREFIX.match(customer)
    if channel is None and match:
        return match.group(2), match.group(1)
    return customer, channel


def _thread(conversation_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": conversation_id}}


async def conversation_messages(
    services: Services, tenant_id: str, conversation_id: str
) -> tuple[list[AnyMessage], dict[str, Any]]:
    """The conversation as messages, and the thread's other values.

    From the thread when it has messages, else from the recorded messages (a conversation
    that never ran the graph, or whose thread is gone).
    """
    snapshot = await services.graph.aget_state(_thread(conversation_id))
    values: dict[str, Any] = dict(snapshot.values or {})
    messages: list[AnyMessage] = list(values.get("messages") or [])
    if messages:
        return messages, values
    recorded = await services.store.list_messages(tenant_id, conversation_id)
    return [
        HumanMessage(content=m.body) if m.direction == "inbound" else AIMessage(content=m.body)
        for m in recorded
        if m.body.strip()
    ], values


async def remember_closed(services: Services, record: LifecycleRecord) -> ConversationSummary:
    """Write a closed conversation's final summary and facts to the customer's memory."""
    conversation = record.conversation
    messages, values = await conversation_messages(
        services, conversation.tenant_id, conversation.id
    )
    tenant = await services.store.get_tenant(conversation.tenant_id)
    language = values.get("language") or (tenant.default_language if tenant else "es")
    summary, usage = await remember_conversation(
        services.persistence.store,
        conversation.tenant_id,
        customer_key(conversation.channel, conversation.address),
        conversation.id,
        messages,
        language=language,
        observed_at=conversation.updated_at,
        sentiment_label=values.get("sentiment_label") or "neutral",
        previous_summary=values.get("summary") or "",
        turns=values.get("turns"),
        close_reason=record.close_reason or "",
    )
    if usage:
        await UsageStore(services.persistence.db).record(
            conversation.tenant_id, conversation.id, usage
        )
    await ConversationLifecycle(services.persistence.db).mark_remembered(
        conversation.tenant_id, conversation.id, utc_now()
    )
    return summary


async def _remember_logged(services: Services, record: LifecycleRecord) -> str | None:
    """The summary written, or None when writing failed (logged; retried later)."""
    ids = {"tenant_id": record.conversation.tenant_id, "conversation_id": record.id}
    try:
        summary = await remember_closed(services, record)
    except Exception as error:
        log.warning("memory_write_failed", extra={**ids, "error": type(error).__name__})
        return None
    log.info("conversation_remembered", extra=ids)
    return summary.text


async def close_conversation(
    services: Services,
    tenant_id: str,
    conversation_id: str,
    reason: str = "resolved",
    now: datetime | None = None,
) -> ClosedConversation:
    """Close a conversation and remember it.

    Raises `InvalidCloseReason` (422), `TenantNotFound` or `ConversationNotFound` (404),
    `ConversationAlreadyClosed` (409).
    """
    if reason not in CLOSE_REASONS:
        raise InvalidCloseReason(
            f"unknown close reason {reason!r}; expected one of: {', '.join(CLOSE_REASONS)}"
        )
    if await services.store.get_tenant(tenant_id) is None:
        raise TenantNotFound(tenant_id)
    lifecycle = ConversationLifecycle(services.persistence.db)
    async with services.exclusive(conversation_id):
        closed = await lifecycle.close(tenant_id, conversation_id, reason, now or utc_now())
        if closed is None:
            if await lifecycle.get(tenant_id, conversation_id) is None:
                raise ConversationNotFound(tenant_id, conversation_id)
            raise ConversationAlreadyClosed(tenant_id, conversation_id)
        log.info(
            "conversation_closed",
            extra={"tenant_id": tenant_id, "conversation_id": conversation_id, "status": reason},
        )
        summary = await _remember_logged(services, closed)
    assert closed.closed_at is not None
    return ClosedConversation(
        tenant_id, conversation_id, reason, closed.closed_at, summary or "", summary is not None
    )


async def close_idle_conversations(
    services: Services, now: datetime | None = None
) -> list[ClosedConversation]:
    """Close every conversation idle for longer than its tenant's idle time, and write the
    memory of closed conversations that does not exist yet (an earlier failure, or a
    conversation closed elsewhere). Returns the conversations this call closed."""
    now = now or utc_now()
    lifecycle = ConversationLifecycle(services.persistence.db)
    closed: list[ClosedConversation] = []
    for tenant in await services.store.list_tenants():
        idle_for = timedelta(hours=lifecycle_settings(tenant).idle_hours)
        for conversation in await lifecycle.idle(tenant.id, now - idle_for):
            try:
                closed.append(
                    await close_conversation(services, tenant.id, conversation.id, "idle", now)
                )
            except (ConversationAlreadyClosed, ConversationNotFound):
                continue  # closed or erased meanwhile
    for record in await lifecycle.to_remember():
        await _remember_logged(services, record)
    return closed


async def apply_retention(services: Services, now: datetime | None = None) -> int:
    """Delete the threads of conversations ended longer ago than their tenant's retention
    period (`checkpointer.adelete_thread`); how many threads were deleted."""
    now = now or utc_now()
    lifecycle = ConversationLifecycle(services.persistence.db)
    deleted = 0
    for tenant in await services.store.list_tenants():
        keep_for = timedelta(days=lifecycle_settings(tenant).retention_days)
        for record in await lifecycle.expired(tenant.id, now - keep_for):
            if record.remembered_at is None:
                await _remember_logged(services, record)  # the memory first, then the thread
            await services.persistence.checkpointer.adelete_thread(record.id)
            await lifecycle.mark_thread_deleted(tenant.id, record.id, now)
            deleted += 1
            log.info(
                "thread_deleted",
                extra={"tenant_id": tenant.id, "conversation_id": record.id, "status": "retention"},
            )
    return deleted


async def _customer_keys(
    services: Services,
    tenant_id: str,
    address: str,
    channel: str | None,
    records: Sequence[LifecycleRecord],
) -> list[str]:
    """The memory keys of the customer: from their conversations and from the store."""
    keys = {customer_key(r.conversation.channel, address) for r in records}
    for key in await CustomerMemory(services.persistence.store).customers(tenant_id):
        known, _, rest = key.partition(":")
        if rest == address and (channel is None or known == channel):
            keys.add(key)
    return sorted(keys)


async def _find_customer(
    services: Services, tenant_id: str, customer: str, channel: str | None
) -> tuple[str, str | None, list[LifecycleRecord], list[str]]:
    if await services.store.get_tenant(tenant_id) is None:
        raise TenantNotFound(tenant_id)
    address, channel = split_customer(customer, channel)
    records = await ConversationLifecycle(services.persistence.db).of_customer(
        tenant_id, address, channel
    )
    keys = await _customer_keys(services, tenant_id, address, channel, records)
    if not records and not keys:
        raise CustomerNotFound(tenant_id, customer)
    return address, channel, records, keys


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


async def export_customer(
    services: Services, tenant_id: str, customer: str, channel: str | None = None
) -> dict[str, Any]:
    """Everything kept about a customer: conversations with their messages and threads,
    and their long-term memory. Raises `TenantNotFound` or `CustomerNotFound`."""
    address, channel, records, keys = await _find_customer(services, tenant_id, customer, channel)
    conversations = []
    for record in records:
        conversation = record.conversation
        recorded = await services.store.list_messages(tenant_id, conversation.id)
        snapshot = await services.graph.aget_state(_thread(conversation.id))
        thread = list((snapshot.values or {}).get("messages") or [])
        conversations.append(
            {
                "id": conversation.id,
                "channel": conversation.channel,
                "status": conversation.status,
                "created_at": _iso(conversation.created_at),
                "updated_at": _iso(conversation.updated_at),
                "closed_at": _iso(record.closed_at),
                "close_reason": record.close_reason,
                "thread_deleted_at": _iso(record.thread_deleted_at),
                "messages": [
                    {
                        "direction": m.direction,
                        "author": m.author,
                        "body": m.body,
                        "status": m.status,
                        "created_at": _iso(m.created_at),
                    }
                    for m in recorded
                ],
                "thread": [{"type": m.type, "name": m.name, "content": m.text} for m in thread],
            }
        )
    memory = CustomerMemory(services.persistence.store)
    return {
        "tenant_id": tenant_id,
        "customer": address,
        "channel": channel,
        "conversations": conversations,
        "memory": {key: await memory.export(tenant_id, key) for key in keys},
    }


async def erase_customer(
    services: Services, tenant_id: str, customer: str, channel: str | None = None
) -> Erasure:
    """Delete the customer's threads, conversations, messages and memory. Each conversation
    goes while it is held (a running turn ends first, and none runs on it again: its rows
    are gone), the memory last. Raises `TenantNotFound` or `CustomerNotFound`."""
    address, channel, records, keys = await _find_customer(services, tenant_id, customer, channel)
    messages = deleted = 0
    for record in records:
        messages += await services.store.count_messages(tenant_id, record.id)
        deleted += await erase_conversation(services, tenant_id, record.id)
    memory = CustomerMemory(services.persistence.store)
    items = 0
    for key in keys:
        items += await memory.erase(tenant_id, key)
    log.info(
        "customer_erased", extra={"tenant_id": tenant_id, "status": f"{deleted} conversations"}
    )
    return Erasure(tenant_id, address, deleted, len(records), messages, items)


async def erase_conversation(services: Services, tenant_id: str, conversation_id: str) -> int:
    """Delete a conversation's thread and rows while holding it; 1 when its row was there."""
    async with services.exclusive(conversation_id):
        await services.persistence.checkpointer.adelete_thread(conversation_id)
        return await ConversationLifecycle(services.persistence.db).delete(
            tenant_id, [conversation_id]
        )


async def erase_tenant(services: Services, tenant_id: str) -> None:
    """Delete a tenant with its conversations, threads, customers' memory and knowledge. The
    tenant row goes first (no new turn starts), then each conversation while it is held
    (a running turn ends first), the memory last."""
    threads = await services.store.conversation_ids(tenant_id)
    await services.store.delete_tenant(tenant_id)
    await asyncio.to_thread(services.knowledge.delete_tenant, tenant_id)
    for thread_id in threads:
        await erase_conversation(services, tenant_id, thread_id)
    await CustomerMemory(services.persistence.store).erase_tenant(tenant_id)
    log.info("tenant_erased", extra={"tenant_id": tenant_id})


async def run_lifecycle_jobs(services: Services) -> None:
    """One round of the periodic jobs: idle closing (and memory retries), then retention."""
    now = utc_now()
    await close_idle_conversations(services, now)
    await apply_retention(services, now)


def lifecycle_jobs(
    services: Services, every_seconds: float = LIFECYCLE_EVERY_SECONDS
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """Run `run_lifecycle_jobs` every `every_seconds` while inside. Safe on several
    replicas: closing is once-only."""
    return run_every("lifecycle_jobs", every_seconds, lambda: run_lifecycle_jobs(services))
