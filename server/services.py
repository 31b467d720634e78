"""Everything a running Atiende process holds open: persistence, knowledge base, graph."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from checkpoints.claims import ConversationClaims, open_claims
from checkpoints.inbox import Inbox
from checkpoints.lock import DataDirLock
from checkpoints.persistence import Persistence, open_persistence
from checkpoints.service import ServiceStore, TenantExists
from config.settings import Settings
from graph.builder import build_graph
from server.channels.twilio_outbound import TwilioSender
from server.demo import DEMO_DOCUMENTS, DEMO_TENANT, DEMO_TENANT_ID
from tools.knowledge import open_knowledge_base
from tools.knowledge.base import KnowledgeBase
from tools.knowledge.shared import use_knowledge_base

log = logging.getLogger(__name__)

CLAIM_POLL_SECONDS = 0.05
SPARE_CLAIMS = 4
"""Claim connections beyond the worker's concurrency, for admin requests and periodic jobs."""


class ConversationBusy(TimeoutError):
    """Another process kept the conversation longer than the wait allowed (HTTP 503)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} is busy")
        self.conversation_id = conversation_id


@dataclass
class Services:
    """The open resources of one process, shared by the HTTP routes and the CLI."""

    settings: Settings
    persistence: Persistence
    knowledge: KnowledgeBase
    graph: CompiledStateGraph[Any, Any, Any, Any]
    sender: TwilioSender
    """Twilio REST sends of this process (bot replies and agents' messages)."""
    claims: ConversationClaims
    """One holder per conversation across every process (the worker's turns take it too)."""
    _turn_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    @property
    def store(self) -> ServiceStore:
        return self.persistence.service

    @property
    def inbox(self) -> Inbox:
        """Queued WhatsApp turns (inbound inbox, turns, outbound bookkeeping)."""
        return Inbox(self.persistence.db)

    @asynccontextmanager
    async def exclusive(self, conversation_id: str) -> AsyncIterator[None]:
        """Sole use of a conversation (its thread, its rows, its outbox) across every process,
        as a queued turn has it: waits for a running turn to end (concurrent graph runs fork
        a thread's history). Raises `ConversationBusy` when it stays taken too long."""
        lock = self._turn_locks.get(conversation_id)
        if lock is None:
            lock = self._turn_locks[conversation_id] = asyncio.Lock()
        loop = asyncio.get_running_loop()
        # a turn holds it for its budget plus its sends
        deadline = (
            loop.time()
            + self.settings.turn_budget_seconds
            + 2 * (self.settings.twilio_timeout_seconds)
        )
        async with lock:
            while True:
                async with self.claims.hold(conversation_id) as held:
                    if held:
                        yield
                        return
                if loop.time() > deadline:
                    raise ConversationBusy(conversation_id)
                await asyncio.sleep(CLAIM_POLL_SECONDS)


def uses_embedded_storage(settings: Settings) -> bool:
    """SQLite or Qdrant Edge: one writer process per data folder."""
    return not settings.uses_postgres or settings.qdrant_server_url is None


async def ensure_demo_tenant(services: Services) -> None:
    """Create the `demo` tenant and its knowledge base once (development only)."""
    try:
        await services.store.create_tenant(DEMO_TENANT)
    except TenantExists:
        return
    await asyncio.to_thread(services.knowledge.upsert, DEMO_TENANT_ID, DEMO_DOCUMENTS)
    log.info("demo_tenant_created", extra={"tenant_id": DEMO_TENANT_ID})


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open (and on exit close) everything, holding the data-folder lock when embedded."""
    async with AsyncExitStack() as stack:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if uses_embedded_storage(settings):
            stack.enter_context(DataDirLock(settings.data_dir))
        persistence = await stack.enter_async_context(
            open_persistence(settings, pool_max_size=max(10, settings.worker_concurrency))
        )
        knowledge = await asyncio.to_thread(open_knowledge_base, settings)
        stack.callback(knowledge.close)
        use_knowledge_base(knowledge)
        stack.callback(use_knowledge_base, None)
        graph = build_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store, name="atiende"
        )
        claims = await stack.enter_async_context(
            open_claims(
                settings.database_url if settings.uses_postgres else None,
                settings.worker_concurrency + SPARE_CLAIMS,
            )
        )
        sender = TwilioSender(
            settings.twilio_send_attempts,
            settings.twilio_retry_base_seconds,
            settings.twilio_timeout_seconds,
        )
        stack.push_async_callback(sender.close)
        services = Services(settings, persistence, knowledge, graph, sender, claims)
        if settings.is_development:
            await ensure_demo_tenant(services)
        yield services
