"""Reading the current turn, and the bot's earlier replies, out of the conversation state;
the turn's deadline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.config import get_config

REPLY_KIND_KEY = "reply_kind"
"""Where a responder reply carries its kind (`ReplyKind`), in the message's `response_metadata`
(kept in the thread, never sent to a model)."""


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


def bot_reply(text: str, kind: str) -> AIMessage:
    """The responder's reply to the customer, tagged with its kind."""
    return AIMessage(content=text, response_metadata={REPLY_KIND_KEY: kind})


def reply_kind_of(message: AnyMessage) -> str | None:
    """The kind of a responder reply; None for any other message (the customer's, a handoff
    or release notice, an agent's: AI messages with a `name`) and for an untagged reply."""
    if not isinstance(message, AIMessage) or message.name:
        return None
    kind = message.response_metadata.get(REPLY_KIND_KEY)
    return kind if isinstance(kind, str) else None


def message_before_turn(messages: Sequence[AnyMessage]) -> AnyMessage | None:
    """What the customer's current turn answers: the message just before it, if any."""
    index = len(messages) - len(turn_messages(messages)) - 1
    return messages[index] if index >= 0 else None


@dataclass(frozen=True)
class EarlierQuestion:
    """A customer message from before the current turn, and whether the bot answered it."""

    text: str
    answered: bool


def earlier_questions(messages: Sequence[AnyMessage], limit: int) -> list[EarlierQuestion]:
    """Up to `limit` customer messages from before the current turn, newest first.

    A message counts as answered when the bot's next message is a reply of kind `answer`, or
    an untagged bot reply (written before replies carried their kind); not answered when that
    reply was anything else (fallback, clarification, failure, ...) or there was none.
    """
    current = len(turn_messages(messages))
    found: list[EarlierQuestion] = []
    next_reply: AnyMessage | None = None
    for message in reversed(messages[: len(messages) - current]):
        if isinstance(message, HumanMessage):
            if message.text.strip():
                kind = reply_kind_of(next_reply) if next_reply is not None else "none"
                found.append(EarlierQuestion(message.text, kind in (None, "answer")))
        elif isinstance(message, AIMessage):
            next_reply = message
        if len(found) == limit:
            break
    return found


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
