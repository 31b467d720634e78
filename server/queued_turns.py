"""What one queued turn says: a graph run over the whole burst, plus the channel's notices.

The reply is handed to the sender as soon as the graph has it; the summary runs after it.
The graph runs with `durability="exit"` (one checkpoint write per turn). That is safe for
exactly-once replies because the recorded reply, not the checkpoint, is the source of
truth: the customer messages go into the thread with ids derived from their rows, so a
turn retried after a crash first looks for its messages in the thread and, when the
earlier attempt did finish the run, reuses that reply instead of answering twice; a turn
whose reply was recorded but whose run never reached its checkpoint gets its messages put
into the thread (`restore_thread`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from checkpoints.inbox import OutboundDraft
from checkpoints.records import ConversationRecord, MessageRecord, TenantRecord, TurnRecord
from server.channels.notices import failure_notice, notice
from server.channels.split import split_message
from server.graph_runs import invoke_turn, thread_config
from server.outbox import ERROR_REASON
from server.services import Services
from server.tenant_context import business_hours
from server.turns import MAX_TURN_CHARS, new_bot_messages
from tools.language import detect_language

log = logging.getLogger(__name__)

THROTTLE_WINDOW = timedelta(minutes=1)
MAX_TURN_ATTEMPTS = 3


@dataclass(frozen=True)
class GraphReply:
    """The bot's answer to a burst, and whether it handed the conversation over."""

    text: str
    sources: tuple[str, ...] = ()
    handoff_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnPlan:
    """The outbound messages of a turn, in order, and the handoff it caused (if any)."""

    drafts: list[OutboundDraft] = field(default_factory=list)
    handoff_reasons: tuple[str, ...] = ()


SendPlan = Callable[[TurnPlan], Awaitable[None]]
"""Records and sends a turn's messages (the worker's)."""


def message_id(record: MessageRecord) -> str:
    """The thread message id of an inbound row (stable across retries)."""
    return f"in-{record.id}"


def customer_messages(inbound: Sequence[MessageRecord]) -> list[HumanMessage]:
    return [
        HumanMessage(content=m.body[:MAX_TURN_CHARS], id=message_id(m))
        for m in inbound
        if m.body.strip()
    ]


def reply_of(update: dict[str, Any]) -> GraphReply:
    """The reply in the update of the node that answered (`graph.reply.reply_update`)."""
    said = [m for m in update.get("messages") or [] if isinstance(m, AIMessage) and m.text]
    reasons = tuple(update.get("handoff_reasons") or ()) if update.get("handoff") else ()
    return GraphReply(
        "\n\n".join(m.text for m in said), tuple(update.get("sources") or ()), reasons
    )


def reply_after(messages: Sequence[BaseMessage], values: dict[str, Any]) -> GraphReply:
    bots = new_bot_messages(list(messages))
    reasons = tuple(values.get("handoff_reasons") or ()) if values.get("handoff") else ()
    return GraphReply(
        "\n\n".join(m.text for m in bots if isinstance(m, AIMessage) and m.text),
        tuple(values.get("sources") or ()),
        reasons,
    )


async def finished_earlier(
    services: Services, config: RunnableConfig, last_id: str
) -> GraphReply | None:
    """The reply of an earlier attempt whose run finished, else None (a run that raised
    leaves a checkpoint too, with the steps it did not run still `next`)."""
    snapshot = await services.graph.aget_state(config)
    if snapshot.next:
        return None
    messages: list[BaseMessage] = list(snapshot.values.get("messages") or [])
    for index, message in enumerate(messages):
        if message.id == last_id:
            return reply_after(
                messages[: index + 1 + _bots_after(messages, index)], snapshot.values
            )
    return None


def _bots_after(messages: Sequence[BaseMessage], index: int) -> int:
    count = 0
    for message in messages[index + 1 :]:
        if isinstance(message, HumanMessage):
            break
        count += 1
    return count


async def run_graph(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    turn: TurnRecord,
    messages: list[HumanMessage],
    on_reply: Callable[[GraphReply], Awaitable[None]],
) -> GraphReply:
    """One graph run over the burst (or the earlier attempt's result); `on_reply` gets the
    reply as soon as the bot has answered, before the summary runs."""
    if turn.attempts > 1:
        assert messages[-1].id is not None
        earlier = await finished_earlier(services, thread_config(conversation.id), messages[-1].id)
        if earlier is not None:
            return earlier

    async def answered(update: dict[str, Any]) -> None:
        await on_reply(reply_of(update))

    state = await invoke_turn(services, tenant, conversation, messages, answered)
    return reply_after(state["messages"], state)


async def restore_thread(
    services: Services, conversation: ConversationRecord, turn_messages: list[MessageRecord]
) -> None:
    """Put a turn's customer messages and replies into the thread when its run never reached
    its checkpoint (the process died after the reply went out, during the summary)."""
    inbound = [m for m in turn_messages if m.direction == "inbound"]
    config = thread_config(conversation.id)
    snapshot = await services.graph.aget_state(config)
    known = {m.id for m in snapshot.values.get("messages") or []}
    if not inbound or message_id(inbound[-1]) in known:
        return
    replies = [m.body for m in turn_messages if m.direction == "outbound" and m.kind == "reply"]
    restored: list[BaseMessage] = [*customer_messages(inbound)]
    if replies:
        restored.append(AIMessage(content="\n\n".join(replies)))
    await services.graph.aupdate_state(config, {"messages": restored}, as_node="summarizer")
    log.info("thread_restored", extra=_ids(conversation))


async def record_only(
    services: Services, conversation_id: str, messages: list[HumanMessage]
) -> None:
    """Add the customer's messages to the thread without answering (human owns it, throttled)."""
    if messages:
        await services.graph.aupdate_state(
            thread_config(conversation_id), {"messages": messages}, as_node="summarizer"
        )


async def failed_for_good(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    messages: list[HumanMessage],
    language: str,
    now: datetime,
) -> TurnPlan:
    """A turn that kept failing: the customer is told a person will look at it (and when,
    out of hours), and the conversation goes to a person (handoff reason `error`)."""
    try:
        await record_only(services, conversation.id, messages)
    except Exception:  # the thread itself may be what fails: the promise still holds
        log.warning("record_failed_turn_failed", extra=_ids(conversation), exc_info=True)
    text = failure_notice(language, business_hours(tenant), now)
    draft = OutboundDraft("failure_notice", text)
    log.warning("turn_failed_for_good", extra=_ids(conversation))
    return TurnPlan([draft], (ERROR_REASON,))


def _ids(conversation: ConversationRecord) -> dict[str, str]:
    return {"tenant_id": conversation.tenant_id, "conversation_id": conversation.id}


async def plan_turn(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    turn: TurnRecord,
    inbound: Sequence[MessageRecord],
    now: datetime,
    recent_inbound: int,
    send: SendPlan,
) -> TurnPlan:
    """Decide and compose what the turn sends and hand it to `send` as soon as it is known
    (after a graph run's answer, before its summary); the plan sent. `recent_inbound`: the
    conversation's inbound messages in the last minute, read with the claim."""
    settings = services.settings
    messages = customer_messages(inbound)
    text = "\n".join(str(m.content) for m in messages)
    language = (
        detect_language(text, default=tenant.default_language)
        if text
        else (tenant.default_language)
    )
    plan: TurnPlan | None = None
    if conversation.status != "bot":
        await record_only(services, conversation.id, messages)
        plan = TurnPlan()
    elif turn.attempts > MAX_TURN_ATTEMPTS:
        plan = await failed_for_good(services, tenant, conversation, messages, language, now)
    elif recent_inbound > (
        tenant.settings.get("throttle_per_minute") or settings.throttle_per_minute
    ):
        plan = await throttled(services, conversation, messages, language, now)
    if plan is not None:
        await send(plan)
        return plan
    notices: list[OutboundDraft] = []
    if any(m.media and not m.body.strip() for m in inbound):
        notices.append(OutboundDraft("media_notice", notice("media_notice", language)))
    sent: list[TurnPlan] = []

    async def answer(reply: GraphReply) -> None:
        sent.append(await compose(services, tenant, conversation, notices, reply))
        await send(sent[0])

    reply = GraphReply("")
    if messages:
        reply = await run_graph(services, tenant, conversation, turn, messages, answer)
    if not sent:  # no graph run, or an earlier attempt's reply
        await answer(reply)
    return sent[0]


async def throttled(
    services: Services,
    conversation: ConversationRecord,
    messages: list[HumanMessage],
    language: str,
    now: datetime,
) -> TurnPlan:
    """Too many messages in a minute: recorded, and one notice a minute."""
    await record_only(services, conversation.id, messages)
    noticed = await services.inbox.sent_kind_since(
        conversation.tenant_id, conversation.id, "throttle_notice", now - THROTTLE_WINDOW
    )
    if noticed:
        return TurnPlan()
    return TurnPlan([OutboundDraft("throttle_notice", notice("throttle_notice", language))])


async def compose(
    services: Services,
    tenant: TenantRecord,
    conversation: ConversationRecord,
    notices: list[OutboundDraft],
    reply: GraphReply,
) -> TurnPlan:
    """The turn's messages: the notices, the reply in parts, the welcome first to a new
    customer."""
    drafts = notices + [
        OutboundDraft("reply", part, reply.sources) for part in split_message(reply.text)
    ]
    welcome = tenant.welcome_message.strip()
    if (
        drafts
        and welcome
        and reply.text.strip() != welcome
        and not await services.inbox.has_written_to(
            tenant.id, conversation.channel, conversation.address
        )
    ):
        drafts[:0] = [OutboundDraft("welcome", part) for part in split_message(welcome)]
    return TurnPlan(drafts, reply.handoff_reasons)
