"""Reading the current turn out of the conversation state, and the turn's deadline."""

from __future__ import annotations

import time
from collections.abc import Sequence

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.config import get_config


def turn_messages(messages: Sequence[AnyMessage]) -> list[HumanMessage]:
    """The customer messages of the current turn (everything after the last bot message)."""
    turn: list[HumanMessage] = []
    for message in reversed(messages):
        if not isinstance(message, HumanMessage):
            break
        turn.append(message)
    return list(reversed(turn))


def turn_text(messages: Sequence[AnyMessage]) -> str:
    """The current turn's customer text; a burst of messages is read as one."""
    return "\n".join(m.text.strip() for m in turn_messages(messages) if m.text.strip())


def earlier_customer_texts(messages: Sequence[AnyMessage], limit: int) -> list[str]:
    """Up to `limit` customer texts from before the current turn, newest first."""
    current = len(turn_messages(messages))
    earlier = [m for m in messages[: len(messages) - current] if isinstance(m, HumanMessage)]
    return [str(m.text) for m in reversed(earlier)][:limit]


def turn_deadline(budget_seconds: float) -> float:
    """When this turn must be over, every LLM call included (epoch seconds): the run's
    `turn_deadline` when the caller set one in `configurable`, else `budget_seconds` from
    now."""
    try:
        configured = get_config().get("configurable", {}).get("turn_deadline")
    except RuntimeError:
        configured = None
    if isinstance(configured, int | float) and not isinstance(configured, bool):
        return float(configured)
    return time.time() + budget_seconds
