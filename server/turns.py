"""One customer turn: record the message, run the graph, record and return the reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from checkpoints.records import TenantRecord
from server.graph_runs import invoke_turn, thread_config
from server.ownership import open_handoff
from server.services import Services

log = logging.getLogger(__name__)

BOT_OWNS = "bot"
MAX_TURN_CHARS = 4096
REASON_LABELS = {
    "sentiment": "negative sentiment",
    "explicit": "explicit request",
    "fallbacks": "repeated fallbacks",
    "loop": "repeated question",
}


@dataclass(frozen=True)
class TurnResult:
    """What the customer gets back from one turn (empty reply while a human owns it)."""

    conversation_id: str
    reply: str
    handoff: bool
    reasons: list[str]
    sources: list[str]
    status: str

    @property
    def reason(self) -> str | None:
        """A readable label of the first handoff reason (`explicit` -> `explicit request`)."""
        return REASON_LABELS.get(self.reasons[0], self.reasons[0]) if self.reasons else None


def new_bot_messages(messages: list[Any]) -> list[AIMessage]:
    """The bot messages written after the customer's latest message."""
    tail: list[AIMessage] = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            break
        if isinstance(message, AIMessage):
            tail.append(message)
    return list(reversed(tail))


async def run_turn(
    services: Services, tenant: TenantRecord, channel: str, address: str, text: str
) -> TurnResult:
    """Answer (or hand over) one customer message on `channel` from `address`.

    Text beyond WhatsApp's 4,096 characters is cut (marked with an ellipsis), not refused.
    While a person owns the conversation the message is only recorded, into the thread too.
    """
    if len(text) > MAX_TURN_CHARS:
        text = text[: MAX_TURN_CHARS - 1] + "…"
    store = services.store
    conversation = await store.open_conversation(tenant.id, channel, address)
    message = HumanMessage(content=text)
    async with services.turn_lock(conversation.id):
        await store.add_message(
            tenant.id, conversation.id, direction="inbound", author="customer", body=text
        )
        if conversation.status != BOT_OWNS:
            await services.graph.aupdate_state(
                thread_config(conversation.id), {"messages": [message]}, as_node="summarizer"
            )
            return TurnResult(conversation.id, "", False, [], [], conversation.status)
        state = await invoke_turn(services, tenant, conversation, [message])
        reply = "\n\n".join(m.text for m in new_bot_messages(state["messages"]) if m.text)
        await store.add_message(
            tenant.id,
            conversation.id,
            direction="outbound",
            author="bot",
            body=reply,
            status="recorded",
            sources=state["sources"],
        )
        reasons = list(state["handoff_reasons"]) if state["handoff"] else []
        if reasons:
            await open_handoff(services, tenant, conversation.id, reasons, state["sentiment_score"])
    status = "pending" if reasons else conversation.status
    log.info(
        "turn_done",
        extra={
            "tenant_id": tenant.id,
            "conversation_id": conversation.id,
            "handoff": bool(reasons),
        },
    )
    return TurnResult(
        conversation.id, reply, bool(reasons), reasons, list(state["sources"]), status
    )
