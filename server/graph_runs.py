"""One graph run for a customer turn, the same for every channel.

Both the synchronous `cli` channel (server/turns.py) and the queued WhatsApp worker
(server/queued_turns.py) run the graph through `invoke_turn`: the customer key for memory,
the turn's deadline for every LLM call in it, one checkpoint per turn, LLM usage recorded,
and (`on_reply`) the reply handed over before the summary runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from checkpoints.memory import customer_key
from checkpoints.records import ConversationRecord, TenantRecord
from checkpoints.usage import UsageStore
from graph.reply import OnReply, run_turn
from server.services import Services
from server.tenant_context import tenant_context


def thread_config(conversation_id: str) -> RunnableConfig:
    """The LangGraph thread of a conversation."""
    return {"configurable": {"thread_id": conversation_id}}


async def invoke_turn(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    messages: Sequence[HumanMessage],
    on_reply: OnReply | None = None,
) -> dict[str, Any]:
    """Run the graph over the turn's customer messages; the resulting state values."""
    config = thread_config(conversation.id)
    config["configurable"]["turn_deadline"] = time.time() + services.settings.turn_budget_seconds
    state = await run_turn(
        services.graph,
        {
            "messages": list(messages),
            "customer": customer_key(conversation.channel, conversation.address),
        },
        config=config,
        context=tenant_context(tenant),
        on_reply=on_reply,
    )
    if state.get("llm_usage"):
        await UsageStore(services.persistence.db).record(
            tenant.id, conversation.id, state["llm_usage"]
        )
    return state
