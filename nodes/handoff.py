"""Handoff router: decides whether a human must take over, and the handoff step itself."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from graph.context import HandoffRules, TenantContext
from graph.state import ConversationState, HandoffReason
from nodes.turn import earlier_customer_texts, turn_text
from tools.embeddings import default_embedder
from tools.intent import asks_for_human

MIN_LOOP_WORDS = 3
HANDOFF_TEXT = {
    "es": "Te comunico con una persona de nuestro equipo. En breve te responderán por aquí.",
    "en": "I'm passing you to a person on our team. They will answer you here shortly.",
}


async def repeats_earlier_question(state: ConversationState, rules: HandoffRules) -> bool:
    """The customer asks essentially the same thing as in a recent turn."""
    text = turn_text(state.messages)
    earlier = [t for t in earlier_customer_texts(state.messages, rules.loop_window) if t.strip()]
    if len(text.split()) < MIN_LOOP_WORDS or not earlier:
        return False
    scores = await asyncio.to_thread(default_embedder().similarity, text, earlier)
    return max(scores) >= rules.loop_similarity


async def handoff_reasons(state: ConversationState, rules: HandoffRules) -> list[HandoffReason]:
    """Every trigger that fires before the bot tries to answer this turn."""
    reasons: list[HandoffReason] = []
    if state.sentiment_score < rules.sentiment_threshold:
        reasons.append("sentiment")
    if asks_for_human(turn_text(state.messages), rules.keywords):
        reasons.append("explicit")
    if state.fallback_count > rules.max_fallbacks:
        reasons.append("fallbacks")
    if await repeats_earlier_question(state, rules):
        reasons.append("loop")
    return reasons


async def handoff_router(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> dict[str, Any]:
    """Apply the tenant's four handoff triggers to the current turn."""
    rules = (runtime.context or TenantContext()).handoff
    reasons = await handoff_reasons(state, rules)
    return {"handoff": bool(reasons), "handoff_reasons": reasons}


def route_after_router(state: ConversationState) -> Literal["hand_over", "retriever"]:
    """Branch: to a human when a trigger fired, else on to the knowledge base."""
    return "hand_over" if state.handoff else "retriever"


def route_after_responder(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> Literal["hand_over", "summarizer"]:
    """Too many unanswered turns in a row: hand over now instead of failing again."""
    rules = (runtime.context or TenantContext()).handoff
    return "hand_over" if state.fallback_count > rules.max_fallbacks else "summarizer"


async def hand_over(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Tell the customer a person will answer; the bot stays quiet from here on."""
    context = runtime.context or TenantContext()
    reasons = list(state.handoff_reasons)
    if state.fallback_count > context.handoff.max_fallbacks and "fallbacks" not in reasons:
        reasons.append("fallbacks")
    text = context.handoff_message or HANDOFF_TEXT.get(state.language, HANDOFF_TEXT["es"])
    return {
        "handoff": True,
        "handoff_reasons": reasons,
        "fallback_count": 0,
        "passages": [],
        "sources": [],
        "messages": [AIMessage(content=text, name="handoff")],
    }
