"""Handoff router: decides whether a human must take over, and the handoff step itself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.runtime import Runtime

from graph.context import HandoffRules, TenantContext
from graph.state import ConversationState, HandoffReason
from nodes.turn import earlier_questions, message_before_turn, reply_kind_of, turn_text
from tools.business_hours import when_someone_answers
from tools.consent import Answer, read_answer
from tools.embeddings import default_embedder
from tools.intent import asks_for_human

MIN_LOOP_WORDS = 3
OFFERS_A_PERSON = frozenset({"fallback", "failure"})
"""Reply kinds that end by asking "shall I pass you to a person?"."""
HANDOFF_TEXT = {
    "es": "Te comunico con una persona de nuestro equipo. En breve te responderán por aquí.",
    "en": "I'm passing you to a person on our team. They will answer you here shortly.",
}
Repetition = Literal["", "answered", "unanswered"]


def since_bot_took_over(messages: Sequence[AnyMessage]) -> Sequence[AnyMessage]:
    """The messages after the last one written by someone other than the bot's answers (the
    handoff notice, an agent, the release notice: AI messages with a `name`), so that what the
    customer asked before or during a handoff does not count as a loop after it."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, AIMessage) and message.name:
            return messages[index + 1 :]
    return messages


def answer_to_offer(messages: Sequence[AnyMessage]) -> Answer | None:
    """The customer's "yes" or "no" when the bot's last message offered a person (a fallback
    or failure reply, nothing written after it); None otherwise, or when the turn says more
    than yes or no ("sí, pero ¿cuánto cuesta el envío?")."""
    before = message_before_turn(messages)
    if before is None or reply_kind_of(before) not in OFFERS_A_PERSON:
        return None
    return read_answer(turn_text(messages))


async def repetition(state: ConversationState, rules: HandoffRules) -> Repetition:
    """Whether the customer asks essentially the same thing as in a recent turn: `answered`
    when the bot answered it then (a loop), `unanswered` when it did not (asking again is
    fair: the responder counts it as a fallback if it still cannot answer), else ``."""
    messages = since_bot_took_over(state.messages)
    text = turn_text(messages)
    earlier = earlier_questions(messages, rules.loop_window)
    if len(text.split()) < MIN_LOOP_WORDS or not earlier:
        return ""
    scores = await asyncio.to_thread(
        default_embedder().similarity, text, [question.text for question in earlier]
    )
    repeated = [
        q for q, score in zip(earlier, scores, strict=True) if score >= rules.loop_similarity
    ]
    if not repeated:
        return ""
    return "answered" if any(q.answered for q in repeated) else "unanswered"


def handoff_reasons(
    state: ConversationState, rules: HandoffRules, repeated: Repetition
) -> list[HandoffReason]:
    """Every trigger that fires before the bot tries to answer this turn."""
    reasons: list[HandoffReason] = []
    if state.sentiment_score < rules.sentiment_threshold:
        reasons.append("sentiment")
    text = turn_text(state.messages)
    if asks_for_human(text, rules.keywords) or answer_to_offer(state.messages) == "yes":
        reasons.append("explicit")
    if state.fallback_count > rules.max_fallbacks:
        reasons.append("fallbacks")
    if repeated == "answered":
        reasons.append("loop")
    return reasons


async def handoff_router(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> dict[str, Any]:
    """Apply the tenant's four handoff triggers to the current turn (a "yes" to the bot's
    offer of a person is an explicit request); note a question asked again unanswered."""
    rules = (runtime.context or TenantContext()).handoff
    repeated = await repetition(state, rules)
    reasons = handoff_reasons(state, rules, repeated)
    return {
        "handoff": bool(reasons),
        "handoff_reasons": reasons,
        "asked_again": repeated == "unanswered",
    }


def route_after_router(state: ConversationState) -> Literal["hand_over", "retriever"]:
    """Branch: to a human when a trigger fired, else on to the knowledge base."""
    return "hand_over" if state.handoff else "retriever"


def route_after_responder(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> Literal["hand_over", "summarizer"]:
    """Too many unanswered turns in a row: hand over now instead of failing again."""
    rules = (runtime.context or TenantContext()).handoff
    return "hand_over" if state.fallback_count > rules.max_fallbacks else "summarizer"


def handoff_text(context: TenantContext, language: str, now: datetime) -> str:
    """The tenant's handoff text (or the built-in one); out of hours, when someone will answer."""
    language = language if language in HANDOFF_TEXT else context.default_language
    text = context.handoff_message or HANDOFF_TEXT.get(language, HANDOFF_TEXT["es"])
    when = when_someone_answers(context.business_hours, now, language)
    return f"{text} {when}" if when else text


async def hand_over(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Tell the customer a person will answer (and when, out of hours); the bot stays quiet."""
    context = runtime.context or TenantContext()
    reasons = list(state.handoff_reasons)
    if state.fallback_count > context.handoff.max_fallbacks and "fallbacks" not in reasons:
        reasons.append("fallbacks")
    text = handoff_text(context, state.language, datetime.now(UTC))
    return {
        "handoff": True,
        "handoff_reasons": reasons,
        "fallback_count": 0,
        "passages": [],
        "sources": [],
        "messages": [AIMessage(content=text, name="handoff")],
    }
