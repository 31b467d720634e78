"""Summarizer node: a short running summary of the conversation, refreshed when due."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from tools import llm

log = logging.getLogger(__name__)

SUMMARY_MESSAGES = 10
MAX_SUMMARY_CHARS = 600
SUMMARY_PROMPT = (
    "Summarize this customer-support conversation in at most 3 sentences, in {language}: "
    "what the customer wants, what was answered, what is pending."
)


def extractive_summary(state: ConversationState) -> str:
    """The customer's recent requests, newest last (offline mode)."""
    asked = [
        m.text.strip() for m in state.messages if isinstance(m, HumanMessage) and m.text.strip()
    ]
    lines = [f"- {text[:140]}" for text in asked[-4:]]
    label = "Cliente" if state.language != "en" else "Customer"
    return f"{label} ({state.sentiment_label}):\n" + "\n".join(lines)


async def summarizer(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Count the turn; refresh the summary every N turns and on every handoff."""
    context = runtime.context or TenantContext()
    turns = state.turns + 1
    if not (state.handoff or turns % max(1, context.summary_every) == 0):
        return {"turns": turns}
    return {"turns": turns, "summary": await _summarize(state, context)}


async def _summarize(state: ConversationState, context: TenantContext) -> str:
    model = llm.get_chat_model("summarizer")
    if model is None:
        return extractive_summary(state)
    transcript = "\n".join(f"{m.type}: {m.text}" for m in state.messages[-SUMMARY_MESSAGES:])
    prompt = SUMMARY_PROMPT.format(language=state.language or context.default_language)
    try:
        result = await model.ainvoke(
            [SystemMessage(content=prompt), HumanMessage(content=transcript)]
        )
        return result.text.strip()[:MAX_SUMMARY_CHARS] or extractive_summary(state)
    except Exception:
        log.exception("summarizer_llm_failed", extra={"tenant_id": context.tenant_id})
        return extractive_summary(state)
