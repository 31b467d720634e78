"""Tenants: create, list, read, update, delete."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from checkpoints.records import TenantRecord
from checkpoints.service import TenantExists
from server.dependencies import ServicesDep, TenantDep
from server.schemas import TenantCreate, TenantFields, TenantList, TenantOut
from server.tenant_context import handoff_rules

router = APIRouter(prefix="/admin/tenants", tags=["tenants"])
HIDDEN_SETTINGS = {"webhook_secret"}


def tenant_out(tenant: TenantRecord) -> TenantOut:
    stored = tenant.settings.get("handoff", {})
    rules = handoff_rules(stored)
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        company_name=tenant.company_name,
        persona=tenant.persona,
        welcome_message=tenant.welcome_message,
        default_language=tenant.default_language,
        handoff_message=tenant.handoff_message,
        handoff={
            **{k: v for k, v in stored.items() if k not in HIDDEN_SETTINGS},
            **rules.__dict__,
            "keywords": list(rules.keywords),
        },
        enabled=tenant.enabled,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


def stored_fields(body: TenantFields) -> dict[str, Any]:
    """The body's set fields, with the handoff rules folded into `settings`."""
    changes = body.model_dump(exclude_unset=True, exclude={"handoff", "id"})
    if body.handoff is not None:
        changes["settings"] = {"handoff": body.handoff.model_dump(exclude_none=True)}
    return changes


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_tenant(body: TenantCreate, services: ServicesDep) -> TenantOut:
    fields = stored_fields(body)
    try:
        tenant = await services.store.create_tenant(TenantRecord(id=body.id, **fields))
    except TenantExists:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"tenant '{body.id}' already exists"
        ) from None
    return tenant_out(tenant)


@router.get("")
async def list_tenants(services: ServicesDep) -> TenantList:
    return TenantList(tenants=[tenant_out(t) for t in await services.store.list_tenants()])


@router.get("/{tenant_id}")
async def get_tenant(tenant: TenantDep) -> TenantOut:
    return tenant_out(tenant)


@router.patch("/{tenant_id}")
async def update_tenant(body: TenantFields, tenant: TenantDep, services: ServicesDep) -> TenantOut:
    changes = stored_fields(body)
    if "settings" in changes:
        handoff = {**tenant.settings.get("handoff", {}), **changes["settings"]["handoff"]}
        changes["settings"] = {**tenant.settings, "handoff": handoff}
    updated = await services.store.update_tenant(tenant.id, changes)
    if updated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown tenant '{tenant.id}'")
    return tenant_out(updated)


@router.delete("/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tenant(tenant: TenantDep, services: ServicesDep) -> Response:
    """Deletes the tenant, its conversations and its knowledge base."""
    await asyncio.to_thread(services.knowledge.delete_tenant, tenant.id)
    await services.store.delete_tenant(tenant.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
