"""Human agents' endpoints: the handoff queue, taking a conversation, replying, releasing it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from checkpoints.database import utc_now
from checkpoints.handoffs import (
    AssignedElsewhere,
    NotHandedOver,
    Transition,
)
from checkpoints.service import ConversationNotFound
from server import ownership
from server.dependencies import ServicesDep, TenantDep
from server.errors import BUSY_RESPONSE
from server.handoff_open import handoffs, thread_values
from server.schemas import MAX_MESSAGE_CHARS, PRINTABLE_NAME

router = APIRouter(prefix="/admin/tenants/{tenant_id}", tags=["handoffs"])

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


AgentName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE_NAME),
    AfterValidator(_printable),
]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    agent: AgentName
    force: bool = False
    """Take it from another agent who has it."""


class AgentMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    agent: AgentName
    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)
    ]


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    agent: AgentName | None = None
    """Who gives it back (recorded; `admin` when not given)."""


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    event: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class HandoffOut(BaseModel):
    conversation_id: str
    customer: str
    channel: str
    status: str
    reasons: list[str]
    summary: str
    sentiment: float | None
    waiting_seconds: float
    """Since the bot handed the conversation over."""
    idle_seconds: float
    """Since an agent last did something with it (took it, replied)."""
    agent: str | None
    opened_at: datetime
    assigned_at: datetime | None
    notification: NotificationOut | None
    """The latest webhook notification of this handoff (failures show here)."""


class HandoffList(BaseModel):
    handoffs: list[HandoffOut]


class OwnershipOut(BaseModel):
    conversation_id: str
    status: str
    agent: str | None
    changed: bool


class SentMessageOut(BaseModel):
    id: int
    author: str
    body: str
    status: str
    error: str | None


class AgentMessageOut(OwnershipOut):
    messages: list[SentMessageOut]


class HandoffRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reasons: list[str]
    sentiment: float | None
    agent: str | None
    opened_at: datetime
    assigned_at: datetime | None
    reminded_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    from_status: str | None
    to_status: str | None
    actor: str
    reason: str
    created_at: datetime


class OwnershipHistory(BaseModel):
    conversation_id: str
    status: str
    handoffs: list[HandoffRecordOut]
    events: list[EventOut]
    """Every change of owner (who, why, when) and every notification outcome."""
    notifications: list[NotificationOut]


def _ownership_out(conversation_id: str, transition: Transition) -> OwnershipOut:
    return OwnershipOut(
        conversation_id=conversation_id,
        status=transition.to_status,
        agent=transition.handoff.agent if transition.to_status == "human" else None,
        changed=transition.changed,
    )


def _not_found(conversation_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, detail=f"unknown conversation '{conversation_id}'"
    )


def _conflict(error: Exception) -> HTTPException:
    if isinstance(error, AssignedElsewhere):
        detail = (
            f"conversation '{error.conversation_id}' is assigned to '{error.agent}'"
            " (assign with force=true to take it)"
        )
    else:
        assert isinstance(error, NotHandedOver)
        detail = (
            f"conversation '{error.conversation_id}' is '{error.status}': the bot owns it"
            if error.status == "bot"
            else f"conversation '{error.conversation_id}' is '{error.status}'"
        )
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


@router.get("/handoffs")
async def list_handoffs(
    tenant: TenantDep,
    services: ServicesDep,
    status_filter: Annotated[Literal["pending", "human"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HandoffList:
    """Conversations waiting for or owned by a person, the longest waiting first."""
    now = utc_now()
    await ownership.record_unrecorded_handoffs(services, now, tenant.id)
    store = handoffs(services)
    items: list[HandoffOut] = []
    for queued in await store.queue(tenant.id, limit):
        conversation, handoff = queued.conversation, queued.handoff
        if status_filter and conversation.status != status_filter:
            continue
        values = await thread_values(services, conversation.id)
        sentiment = handoff.sentiment
        if sentiment is None and "sentiment_score" in values:
            sentiment = float(values["sentiment_score"])
        notifications = [
            n
            for n in await store.notifications(tenant.id, conversation.id)
            if n.handoff_id == handoff.id
        ]
        items.append(
            HandoffOut(
                conversation_id=conversation.id,
                customer=conversation.address,
                channel=conversation.channel,
                status=conversation.status,
                reasons=list(handoff.reasons or conversation.handoff_reasons),
                summary=str(values.get("summary") or ""),
                sentiment=sentiment,
                waiting_seconds=round((now - handoff.opened_at).total_seconds(), 3),
                idle_seconds=round((now - handoff.agent_active_at).total_seconds(), 3),
                agent=handoff.agent if conversation.status == "human" else None,
                opened_at=handoff.opened_at,
                assigned_at=handoff.assigned_at,
                notification=NotificationOut.model_validate(notifications[-1])
                if notifications
                else None,
            )
        )
    return HandoffList(handoffs=items)


@router.get("/conversations/{conversation_id}/handoff")
async def ownership_history(
    conversation_id: str, tenant: TenantDep, services: ServicesDep
) -> OwnershipHistory:
    """The conversation's handoffs, ownership changes and webhook notifications."""
    conversation = await services.store.get_conversation(tenant.id, conversation_id)
    if conversation is None:
        raise _not_found(conversation_id)
    store = handoffs(services)
    return OwnershipHistory(
        conversation_id=conversation.id,
        status=conversation.status,
        handoffs=[
            HandoffRecordOut.model_validate(h)
            for h in await store.history(tenant.id, conversation.id)
        ],
        events=[EventOut.model_validate(e) for e in await store.events(tenant.id, conversation.id)],
        notifications=[
            NotificationOut.model_validate(n)
            for n in await store.notifications(tenant.id, conversation.id)
        ],
    )


@router.post(
    "/conversations/{conversation_id}/assign",
    responses={409: {"description": "Not handed over, or assigned to another agent"}},
)
async def assign(
    conversation_id: str, body: AssignIn, tenant: TenantDep, services: ServicesDep
) -> OwnershipOut:
    """An agent takes a handed-over conversation (`pending -> human`)."""
    try:
        transition = await ownership.assign(
            services, tenant, conversation_id, body.agent, force=body.force
        )
    except ConversationNotFound:
        raise _not_found(conversation_id) from None
    except (NotHandedOver, AssignedElsewhere) as error:
        raise _conflict(error) from None
    return _ownership_out(conversation_id, transition)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "Not handed over, or assigned to another agent"},
        **BUSY_RESPONSE,
    },
)
async def agent_message(
    conversation_id: str,
    body: AgentMessageIn,
    tenant: TenantDep,
    services: ServicesDep,
) -> AgentMessageOut:
    """An agent's reply: recorded, added to the bot's thread, sent to the customer."""
    try:
        reply = await ownership.agent_reply(
            services, tenant, conversation_id, body.agent, body.body
        )
    except ConversationNotFound:
        raise _not_found(conversation_id) from None
    except (NotHandedOver, AssignedElsewhere) as error:
        raise _conflict(error) from None
    owned = _ownership_out(conversation_id, reply.transition)
    return AgentMessageOut(
        **owned.model_dump(),
        messages=[
            SentMessageOut(id=m.id, author=m.author, body=m.body, status=m.status, error=m.error)
            for m in reply.messages
        ],
    )


@router.post(
    "/conversations/{conversation_id}/release",
    responses={409: {"description": "The bot owns it already"}},
)
async def release(
    conversation_id: str,
    tenant: TenantDep,
    services: ServicesDep,
    body: Annotated[ReleaseIn | None, Body()] = None,
) -> OwnershipOut:
    """Give the conversation back to the bot."""
    actor = body.agent if body and body.agent else "admin"
    try:
        transition = await ownership.release(services, tenant, conversation_id, actor)
    except ConversationNotFound:
        raise _not_found(conversation_id) from None
    except NotHandedOver as error:
        raise _conflict(error) from None
    return _ownership_out(conversation_id, transition)
