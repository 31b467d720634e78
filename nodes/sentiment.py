"""Sentiment node: the customer's language and mood for this turn."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.turn import turn_text
from tools.language import detect_language
from tools.sentiment import get_sentiment_analyzer


async def sentiment(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Detect the language and score the mood of the current turn."""
    context = runtime.context or TenantContext()
    text = turn_text(state.messages)
    language = detect_language(text, default=state.language or context.default_language)
    analyzer = get_sentiment_analyzer(context.sentiment_provider or None)
    mood = await analyzer.analyze(text, language)
    return {"language": language, "sentiment_score": mood.score, "sentiment_label": mood.label}
