"""The short-term window: the part of the conversation the model sees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
    trim_messages,
)

MODEL_WINDOW = 10
"""How many of the latest messages the model sees (the thread keeps them all)."""


def message_count(messages: list[BaseMessage]) -> int:
    """`trim_messages`' token counter: one "token" per message (a Python function, as
    inspecting the builtin `len` parses its text signature on every call)."""
    return len(messages)


def model_window(messages: Sequence[AnyMessage], limit: int = MODEL_WINDOW) -> list[AnyMessage]:
    """The last `limit` messages, starting at a customer message.

    Starting at a customer (human) message means no tool message is left without the AI
    message that called it. When the latest customer message is further back than `limit`,
    the window is that message and everything after it (the current turn is never cut).
    """
    window = trim_messages(
        list(messages),
        max_tokens=limit,
        token_counter=message_count,
        strategy="last",
        start_on="human",
        include_system=True,
        allow_partial=False,
    )
    if any(isinstance(m, HumanMessage) for m in window):
        return cast(list[AnyMessage], window)
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return list(messages[index:])
    tail = list(messages[-limit:]) if limit > 0 else []
    while tail and isinstance(tail[0], ToolMessage):
        tail.pop(0)
    return tail
