"""Reading the current turn out of the conversation state."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AnyMessage, HumanMessage


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
