"""Recall: what the bot remembers about the customer, as text for the responder's prompt.

The customer's profile (name, orders, preferences, recurring issues) comes first; then
summaries of earlier conversations, the most relevant to the current question first
(embedding similarity, newer first on ties), as long as they fit in the token budget.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from checkpoints.memory import ConversationSummary, CustomerMemory, CustomerProfile
from tools.embeddings import default_embedder

MEMORY_TOKEN_BUDGET = 400
"""At most this many (estimated) tokens of memory go into the model's context."""
MAX_ORDERS_SHOWN = 5
MAX_CANDIDATES = 50
"""Only the newest this many earlier summaries are ranked (bounds the work per turn)."""
RECENCY_WEIGHT = 0.05
PROFILE_TITLE = "Customer profile:"
SUMMARIES_TITLE = "Earlier conversations (most relevant first):"
FACT_LABELS = {
    "name": "Name",
    "language": "Language",
    "contact_time": "Preferred contact time",
}


def run_thread_id(runtime: Runtime[Any]) -> str:
    """The conversation (thread) of the running graph, '' outside a checkpointed run."""
    info = runtime.execution_info
    return (info.thread_id or "") if info else ""


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters per token)."""
    return math.ceil(len(text) / 4)


def profile_lines(profile: CustomerProfile) -> list[str]:
    """The profile as prompt lines, most useful first."""
    lines = [
        f"- {FACT_LABELS[name]}: {profile.facts[name].value}"
        for name in FACT_LABELS
        if name in profile.facts
    ]
    for kind, label in (("order", "Order numbers"), ("booking", "Booking numbers")):
        numbers = [o.value for o in profile.orders if o.kind == kind][:MAX_ORDERS_SHOWN]
        if numbers:
            lines.append(f"- {label} they gave (newest first): {', '.join(numbers)}")
    recurring = profile.recurring_issues
    if recurring:
        counts = ", ".join(f"{k} ({profile.issues[k]} conversations)" for k in recurring)
        lines.append(f"- Recurring issues: {counts}")
    return lines


def summary_line(summary: ConversationSummary) -> str:
    text = " ".join(summary.text.split())
    return f"- {summary.observed_at:%Y-%m-%d}: {text}"


async def rank_summaries(
    question: str, summaries: list[ConversationSummary]
) -> list[ConversationSummary]:
    """Most relevant to `question` first; without a question, newest first."""
    if not question.strip() or len(summaries) < 2:
        return summaries
    scores = await asyncio.to_thread(
        default_embedder().similarity, question, [s.text for s in summaries]
    )
    newest_first = {s.conversation_id: rank for rank, s in enumerate(summaries)}
    return sorted(
        summaries,
        key=lambda s: (
            -(
                scores[newest_first[s.conversation_id]]
                - RECENCY_WEIGHT * newest_first[s.conversation_id] / len(summaries)
            )
        ),
    )


def within_budget(
    profile: list[str], summaries: list[ConversationSummary], budget: int
) -> list[str]:
    """The profile lines and the summaries that fit in `budget` tokens, under titles."""
    used = 0

    def fitting(title: str, candidates: list[str]) -> list[str]:
        nonlocal used
        chosen: list[str] = []
        spent = estimate_tokens(title)
        for line in candidates:
            cost = estimate_tokens(line)
            if used + spent + cost <= budget:
                chosen.append(line)
                spent += cost
        if not chosen:
            return []
        used += spent
        return [title, *chosen]

    lines = fitting(PROFILE_TITLE, profile)
    return lines + fitting(SUMMARIES_TITLE, [summary_line(s) for s in summaries])


async def recall(
    store: BaseStore,
    tenant_id: str,
    customer: str,
    question: str,
    conversation_id: str = "",
    budget: int = MEMORY_TOKEN_BUDGET,
) -> str:
    """The customer's memory for the model's context ('' when there is none).

    The current conversation's own summary is left out: the model sees that conversation.
    """
    memory = CustomerMemory(store)
    profile, summaries = await memory.recollection(tenant_id, customer)
    earlier = [s for s in summaries if s.conversation_id != conversation_id and s.text.strip()]
    earlier = earlier[:MAX_CANDIDATES]
    ranked = await rank_summaries(question, earlier)
    return "\n".join(within_budget(profile_lines(profile), ranked, budget))
