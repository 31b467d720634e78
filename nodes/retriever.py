"""Retriever node: the tenant's knowledge-base passages for this turn's question."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.turn import turn_text
from tools.knowledge import is_relevant
from tools.knowledge.shared import shared_knowledge_base

PASSAGE_LIMIT = 4


async def retriever(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Search the tenant's knowledge base; flag when nothing relevant came back."""
    context = runtime.context or TenantContext()
    question = turn_text(state.messages)
    if not question:
        return {"passages": [], "nothing_relevant": True}
    passages = await asyncio.to_thread(
        lambda: shared_knowledge_base().search(context.tenant_id, question, PASSAGE_LIMIT)
    )
    return {"passages": passages, "nothing_relevant": not any(map(is_relevant, passages))}
