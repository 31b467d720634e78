from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TenantContext
from graph.state import ConversationState
from nodes.sentiment import sentiment


async def test_scores_the_current_turn_and_detects_language(
    runtime: Runtime[TenantContext],
) -> None:
    state = ConversationState(
        messages=[
            HumanMessage("todo excelente, gracias"),
            AIMessage("¡Con gusto!"),
            HumanMessage("This is the worst service ever, absolutely terrible!!"),
        ]
    )
    update = await sentiment(state, runtime)
    assert update["language"] == "en"
    assert update["sentiment_score"] < -0.5 and update["sentiment_label"] == "negative"


async def test_empty_turn_is_neutral_in_the_default_language(
    runtime: Runtime[TenantContext],
) -> None:
    update = await sentiment(ConversationState(messages=[HumanMessage("")]), runtime)
    assert update == {"language": "es", "sentiment_score": 0.0, "sentiment_label": "neutral"}
