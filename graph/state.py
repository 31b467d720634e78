"""`ConversationState`: what one conversation thread remembers between turns.

Flat checkpoint storage: `messages` is a `DeltaChannel` (LangGraph beta), so a checkpoint
stores only the messages written in its step, not the whole list; the list is rebuilt by
replaying the thread's writes since the last full snapshot (one every
`MESSAGES_SNAPSHOT_EVERY` message writes). With LangGraph's default `add_messages` channel
every checkpoint holds every message, and storage grows quadratically with the turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.message import _messages_delta_reducer

from tools.knowledge.types import Passage
from tools.llm.usage import LLMUsage, keep_recent_usage

HandoffReason = Literal["sentiment", "explicit", "fallbacks", "loop", "error"]
SentimentLabel = Literal["positive", "neutral", "negative", "mixed"]
ReplyKind = Literal["", "answer", "clarification", "fallback", "failure", "small_talk", "refusal"]
MESSAGES_SNAPSHOT_EVERY = 1000
"""A full copy of `messages` every this many writes to it (about 500 turns)."""


@dataclass
class ConversationState:
    """State of one conversation (a LangGraph thread).

    Nodes return partial updates; `messages` accumulates, everything else is
    overwritten by the node that owns it.
    """

    messages: Annotated[
        list[AnyMessage],
        DeltaChannel(_messages_delta_reducer, snapshot_frequency=MESSAGES_SNAPSHOT_EVERY),
    ] = field(default_factory=list)
    """The whole conversation: customer (human) and bot (ai) messages (the model sees only
    the last few: `nodes.window.model_window`)."""

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

    asked_again: bool = False
    """The current turn asks again what a recent turn asked and the bot did not answer (set
    by the handoff router). Not a loop: when the bot still cannot answer, the responder counts
    it as a fallback (a clarifying question is not asked twice)."""

    sources: list[str] = field(default_factory=list)
    """Document ids the latest reply was built from (citations)."""

    summary: str = ""
    """Running summary of the conversation, refreshed by the summarizer."""

    language: str = ""
    """Detected language of the customer (`es` or `en`)."""

    turns: int = 0
    """Customer turns answered or handed over so far."""

    customer: str = ""
    """Who is talking: the customer key `channel:address` (e.g. `whatsapp:+5215512345678`),
    set by the caller's input on the first turn of a conversation. Long-term memory is read
    and written under (tenant, customer); empty means no memory."""

    memory: str = ""
    """What the bot remembers about this customer from earlier conversations (profile and
    the most relevant summaries, within a token budget), filled by the retriever for the
    responder's prompt. Private to this customer: never shown to anyone else."""

    reply_kind: ReplyKind = ""
    """How the responder replied to the latest turn it handled: `answer` (grounded in
    `sources`), `clarification` (one question back), `fallback` (nothing supports an answer;
    counted in `fallback_count`), `failure` (every provider failed or the turn's budget ran
    out: an apology offering a person; also counted), `small_talk`, `refusal` (a prompt-
    injection attempt). Not reset on a handoff turn: read it only when the responder ran."""

    llm_usage: Annotated[list[LLMUsage], keep_recent_usage] = field(default_factory=list)
    """The most recent LLM calls (model, tokens, cost), newest last. Each has a unique
    `call_id`, so the server records them idempotently after every run."""
