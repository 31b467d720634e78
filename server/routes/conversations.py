"""A tenant's conversations, and the `cli` channel that `atiende chat` talks through."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from checkpoints.records import ConversationRecord
from server.dependencies import ServicesDep, TenantDep
from server.errors import BUSY_RESPONSE
from server.schemas import (
    MAX_OFFSET,
    ChatIn,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    MessageOut,
    QueuedTurnOut,
    TurnOut,
)
from server.turns import run_turn

router = APIRouter(prefix="/admin/tenants/{tenant_id}", tags=["conversations"])
Status = Literal["bot", "pending", "human", "closed"]


def conversation_out(conversation: ConversationRecord) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        customer=conversation.address,
        channel=conversation.channel,
        status=conversation.status,
        handoff_reasons=list(conversation.handoff_reasons),
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


@router.get("/conversations")
async def list_conversations(
    tenant: TenantDep,
    services: ServicesDep,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ConversationList:
    """Newest first, optionally only those with one status."""
    found = await services.store.list_conversations(
        tenant.id, status=status_filter, limit=limit, offset=offset
    )
    return ConversationList(
        conversations=[conversation_out(c) for c in found], limit=limit, offset=offset
    )


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: str, tenant: TenantDep, services: ServicesDep
) -> ConversationDetail:
    conversation = await services.store.get_conversation(tenant.id, conversation_id)
    if conversation is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"unknown conversation '{conversation_id}'"
        )
    messages = await services.store.list_messages(tenant.id, conversation_id)
    return ConversationDetail(
        **conversation_out(conversation).model_dump(),
        messages=[
            MessageOut(
                direction=m.direction,
                author=m.author,
                body=m.body,
                status=m.status,
                kind=m.kind,
                error=m.error,
                send_attempts=m.send_attempts,
                sources=list(m.sources),
                created_at=m.created_at,
            )
            for m in messages
        ],
        turns=[
            QueuedTurnOut(
                status=t.status,
                attempts=t.attempts,
                created_at=t.created_at,
                updated_at=t.updated_at,
            )
            for t in await services.inbox.turns(tenant.id, conversation_id)
        ],
    )


@router.post("/chat", responses={403: {"description": "The tenant is disabled"}, **BUSY_RESPONSE})
async def chat(body: ChatIn, tenant: TenantDep, services: ServicesDep) -> TurnOut:
    """One customer turn on the `cli` channel (what `atiende chat` sends to a running server)."""
    if not tenant.enabled:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"tenant '{tenant.id}' is disabled")
    result = await run_turn(services, tenant, "cli", body.customer, body.text)
    return TurnOut(
        conversation_id=result.conversation_id,
        reply=result.reply,
        handoff=result.handoff,
        reason=result.reason,
        reasons=result.reasons,
        sources=result.sources,
        status=result.status,
    )
