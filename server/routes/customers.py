"""A tenant's customers: export everything kept about one, or erase it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from server.dependencies import ServicesDep, TenantDep
from server.errors import BUSY_RESPONSE
from server.lifecycle import CustomerNotFound, erase_customer, export_customer

router = APIRouter(prefix="/admin/tenants/{tenant_id}/customers", tags=["customers"])
Channel = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Only this channel (`whatsapp`, `cli`); default: every channel.",
    ),
]


class MessageExport(BaseModel):
    direction: str
    author: str
    body: str
    status: str
    created_at: str | None


class ThreadMessage(BaseModel):
    type: str
    name: str | None
    content: str


class ConversationExport(BaseModel):
    id: str
    channel: str
    status: str
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    close_reason: str | None
    thread_deleted_at: str | None
    messages: list[MessageExport]
    thread: list[ThreadMessage]
    """The LangGraph thread (empty once the retention period deleted it)."""


class MemoryItem(BaseModel):
    key: str
    value: dict[str, Any]
    created_at: str
    updated_at: str


class CustomerExport(BaseModel):
    tenant_id: str
    customer: str
    channel: str | None
    conversations: list[ConversationExport]
    memory: dict[str, list[MemoryItem]]
    """Long-term memory items per customer key (`channel:address`)."""


class ErasureOut(BaseModel):
    tenant_id: str
    customer: str
    conversations: int
    threads: int
    messages: int
    memory_items: int
    knowledge_chunks: int
    """Always 0: the knowledge base holds tenant documents only, nothing per customer."""


def _not_found(customer: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown customer '{customer}'")


@router.get("/{customer}")
async def export(
    customer: str, tenant: TenantDep, services: ServicesDep, channel: Channel = None
) -> CustomerExport:
    """Everything kept about the customer (`+5215512345678` or `whatsapp:+5215512345678`)."""
    try:
        found = await export_customer(services, tenant.id, customer, channel)
    except CustomerNotFound:
        raise _not_found(customer) from None
    return CustomerExport.model_validate(found)


@router.delete("/{customer}", responses=BUSY_RESPONSE)
async def erase(
    customer: str, tenant: TenantDep, services: ServicesDep, channel: Channel = None
) -> ErasureOut:
    """Erase the customer's threads, memory, conversations and messages."""
    try:
        erased = await erase_customer(services, tenant.id, customer, channel)
    except CustomerNotFound:
        raise _not_found(customer) from None
    return ErasureOut.model_validate(erased, from_attributes=True)
