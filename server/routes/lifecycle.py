"""Ending conversations and the tenant's lifecycle settings (idle time, retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from checkpoints.service import ConversationNotFound
from server.dependencies import ServicesDep, TenantDep
from server.errors import BUSY_RESPONSE
from server.lifecycle import (
    CloseReason,
    ConversationAlreadyClosed,
    close_conversation,
    lifecycle_settings,
)

router = APIRouter(prefix="/admin/tenants/{tenant_id}", tags=["lifecycle"])


class CloseIn(BaseModel):
    """Why the conversation ends (default: the customer's issue is resolved)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    reason: CloseReason = "resolved"


class ClosedOut(BaseModel):
    conversation_id: str
    status: str
    reason: str
    closed_at: datetime
    summary: str
    """The final summary written to the customer's memory ('' when that write failed;
    it is retried by the periodic job)."""
    remembered: bool


class LifecycleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    idle_hours: float | None = Field(default=None, gt=0, le=24 * 365)
    retention_days: float | None = Field(default=None, ge=0, le=3650)


class LifecycleOut(BaseModel):
    idle_hours: float
    """An open conversation with no activity for this long is closed."""
    retention_days: float
    """A closed conversation's thread is deleted this long after it ended."""


@router.post(
    "/conversations/{conversation_id}/close",
    responses={409: {"description": "Closed already"}, **BUSY_RESPONSE},
)
async def close(
    conversation_id: str,
    tenant: TenantDep,
    services: ServicesDep,
    body: CloseIn | None = None,
) -> ClosedOut:
    """Close the conversation now and write its summary to the customer's memory.

    404 for an unknown conversation, 409 when it is closed already.
    """
    reason = (body or CloseIn()).reason
    try:
        closed = await close_conversation(services, tenant.id, conversation_id, reason)
    except ConversationNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"unknown conversation '{conversation_id}'"
        ) from None
    except ConversationAlreadyClosed:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"conversation '{conversation_id}' is already closed"
        ) from None
    return ClosedOut(
        conversation_id=closed.conversation_id,
        status="closed",
        reason=closed.reason,
        closed_at=closed.closed_at,
        summary=closed.summary,
        remembered=closed.remembered,
    )


@router.get("/lifecycle")
async def get_lifecycle(tenant: TenantDep) -> LifecycleOut:
    settings = lifecycle_settings(tenant)
    return LifecycleOut(idle_hours=settings.idle_hours, retention_days=settings.retention_days)


@router.patch("/lifecycle")
async def update_lifecycle(
    body: LifecycleIn, tenant: TenantDep, services: ServicesDep
) -> LifecycleOut:
    """Set the idle time and/or the retention period (defaults: 24 h, 30 days)."""
    current = tenant.settings.get("lifecycle") or {}
    changed: dict[str, Any] = {**current, **body.model_dump(exclude_none=True)}
    updated = await services.store.update_tenant(
        tenant.id, {"settings": {**tenant.settings, "lifecycle": changed}}
    )
    if updated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown tenant '{tenant.id}'")
    settings = lifecycle_settings(updated)
    return LifecycleOut(idle_hours=settings.idle_hours, retention_days=settings.retention_days)
