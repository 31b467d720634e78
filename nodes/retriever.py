"""Retriever node: the tenant's knowledge-base passages for this turn's question, and what
the bot remembers about the customer (long-term memory from the run's store)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.recall import recall, run_thread_id
from nodes.turn import turn_text
from tools.knowledge import is_relevant
from tools.knowledge.shared import shared_knowledge_base
from tools.knowledge.types import Passage

log = logging.getLogger(__name__)

PASSAGE_LIMIT = 4


async def remembered(
    state: ConversationState, runtime: Runtime[TenantContext], question: str
) -> str:
    """The customer's memory for the responder ('' without a store or a customer, or on error)."""
    context = runtime.context or TenantContext()
    if runtime.store is None or not state.customer:
        return ""
    try:
        return await recall(
            runtime.store, context.tenant_id, state.customer, question, run_thread_id(runtime)
        )
    except Exception:
        log.warning(
            "memory_recall_failed",
            extra={"tenant_id": context.tenant_id, "conversation_id": run_thread_id(runtime)},
            exc_info=True,
        )
        return ""


async def search(tenant_id: str, question: str) -> list[Passage]:
    if not question:
        return []
    return await asyncio.to_thread(
        lambda: shared_knowledge_base().search(tenant_id, question, PASSAGE_LIMIT)
    )


async def retriever(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Search the tenant's knowledge base and the customer's memory; flag when nothing relevant."""
    context = runtime.context or TenantContext()
    question = turn_text(state.messages)
    passages, memory = await asyncio.gather(
        search(context.tenant_id, question), remembered(state, runtime, question)
    )
    return {
        "passages": passages,
        "nothing_relevant": not any(map(is_relevant, passages)),
        "memory": memory,
    }
