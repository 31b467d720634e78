"""One customer turn on the `cli` channel: record the message, run the graph, record and
return the reply. A turn that fails gets the failure notice and goes to a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from checkpoints.database import utc_now
from checkpoints.records import TenantRecord
from server.channels.notices import failure_notice
from server.graph_runs import invoke_turn, thread_config
from server.handoff_open import open_handoff
from server.services import Services
from server.tenant_context import business_hours
from tools.language import detect_language

log = logging.getLogger(__name__)

BOT_OWNS = "bot"
MAX_TURN_CHARS = 4096
REASON_LABELS = {
    "sentiment": "negative sentiment",
    "explicit": "explicit request",
    "fallbacks": "repeated fallbacks",
    "loop": "repeated question",
    "error": "service error",
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
    async with services.exclusive(conversation.id):
        await store.add_message(
            tenant.id, conversation.id, direction="inbound", author="customer", body=text
        )
        if conversation.status != BOT_OWNS:
            await services.graph.aupdate_state(
                thread_config(conversation.id), {"messages": [message]}, as_node="summarizer"
            )
            return TurnResult(conversation.id, "", False, [], [], conversation.status)
        try:
            state = await invoke_turn(services, tenant, conversation, [message])
        except Exception:
            log.exception("turn_failed", extra={"tenant_id": tenant.id})
            language = detect_language(text, default=tenant.default_language)
            hours = business_hours(tenant)
            state = {
                "messages": [AIMessage(content=failure_notice(language, hours, utc_now()))],
                "sources": [],
                "handoff": True,
                "handoff_reasons": ["error"],
                "sentiment_score": None,
            }
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
