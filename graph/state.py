"""`ConversationState`: what one conversation thread remembers between turns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from tools.knowledge.types import Passage

HandoffReason = Literal["sentiment", "explicit", "fallbacks", "loop"]
SentimentLabel = Literal["positive", "neutral", "negative", "mixed"]


@dataclass
class ConversationState:
    """State of one conversation (a LangGraph thread).

    Nodes return partial updates; `messages` accumulates, everything else is
    overwritten by the node that owns it.
    """

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)
    """The whole conversation: customer (human) and bot (ai) messages."""

    sentiment_score: float = 0.0
    """Mood of the latest customer message, in [-1, 1] (positive minus negative)."""

    sentiment_label: SentimentLabel = "neutral"
    """Label of the latest customer message's mood."""

    handoff: bool = False
    """Whether this turn handed the conversation to a human."""

    handoff_reasons: list[HandoffReason] = field(default_factory=list)
    """Every trigger that fired this turn (empty when the bot answers)."""

    passages: list[Passage] = field(default_factory=list)
    """Knowledge-base passages retrieved for the latest question, best first."""

    nothing_relevant: bool = False
    """The retriever found no passage that plausibly answers the question."""

    fallback_count: int = 0
    """Consecutive turns the bot could not answer from the knowledge base."""

    sources: list[str] = field(default_factory=list)
    """Document ids the latest reply was built from (citations)."""

    summary: str = ""
    """Running summary of the conversation, refreshed by the summarizer."""

    language: str = ""
    """Detected language of the customer (`es` or `en`)."""

    turns: int = 0
    """Customer turns answered or handed over so far."""
