"""Tenants: create, list, read, update, delete."""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import SecretStr

from checkpoints.records import TenantRecord
from checkpoints.service import TenantExists
from server.dependencies import ServicesDep, TenantDep
from server.errors import BUSY_RESPONSE
from server.lifecycle import erase_tenant
from server.schemas import (
    TenantCreate,
    TenantFields,
    TenantList,
    TenantOut,
    WhatsAppIn,
    WhatsAppOut,
)
from server.tenant_context import handoff_rules

router = APIRouter(prefix="/admin/tenants", tags=["tenants"])
HIDDEN_SETTINGS = {"webhook_secret"}
# What `null` sets a tenant field back to.
DEFAULTS = {f.name: f.default for f in dataclasses.fields(TenantRecord) if f.default is not MISSING}


# API field of `WhatsAppIn` -> key in settings["twilio"] (the others are top-level settings)
TWILIO_KEYS = {
    "number": "whatsapp_number",
    "account_sid": "account_sid",
    "auth_token": "auth_token",
}
TWILIO_SETTINGS = tuple(WhatsAppIn.model_fields)


def tenant_out(tenant: TenantRecord) -> TenantOut:
    stored = tenant.settings.get("handoff", {})
    rules = handoff_rules(stored)
    twilio = tenant.settings.get("twilio") or {}
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
            "keywords": None if rules.keywords is None else list(rules.keywords),
        },
        whatsapp=WhatsAppOut(
            number=twilio.get("whatsapp_number"),
            account_sid=twilio.get("account_sid"),
            auth_token_set=bool(twilio.get("auth_token")),
            debounce_seconds=tenant.settings.get("debounce_seconds"),
            throttle_per_minute=tenant.settings.get("throttle_per_minute"),
        ),
        enabled=tenant.enabled,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


def with_whatsapp(settings: dict[str, Any], body: WhatsAppIn) -> dict[str, Any]:
    """`settings` with the body's WhatsApp values set (`null` removes one)."""
    merged = dict(settings)
    twilio = dict(settings.get("twilio") or {})
    for name, value in body.model_dump(exclude_unset=True).items():
        target, key = (twilio, TWILIO_KEYS[name]) if name in TWILIO_KEYS else (merged, name)
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
    merged["twilio"] = twilio
    return merged


def stored_fields(body: TenantFields, settings: dict[str, Any]) -> dict[str, Any]:
    """The body's set fields (`null`: the field's default); its handoff rules and WhatsApp
    settings merged into the stored `settings` (`null`: the built-in rules, the
    deployment's WhatsApp settings)."""
    given = body.model_dump(exclude_unset=True, exclude={"handoff", "whatsapp", "id"})
    changes = {name: DEFAULTS[name] if value is None else value for name, value in given.items()}
    merged = dict(settings)
    if body.handoff is not None:
        handoff = body.handoff.model_dump(exclude_none=True)
        merged["handoff"] = {**settings.get("handoff", {}), **handoff}
    elif "handoff" in body.model_fields_set:
        merged.pop("handoff", None)
    if body.whatsapp is not None:
        merged = with_whatsapp(merged, body.whatsapp)
    elif "whatsapp" in body.model_fields_set:
        merged = with_whatsapp(merged, WhatsAppIn.model_validate(dict.fromkeys(TWILIO_SETTINGS)))
    if merged != settings:
        changes["settings"] = merged
    return changes


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A tenant with this id exists"}},
)
async def create_tenant(body: TenantCreate, services: ServicesDep) -> TenantOut:
    fields = stored_fields(body, {})
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
    changes = stored_fields(body, tenant.settings)
    updated = await services.store.update_tenant(tenant.id, changes)
    if updated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown tenant '{tenant.id}'")
    return tenant_out(updated)


@router.delete("/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT, responses=BUSY_RESPONSE)
async def delete_tenant(tenant: TenantDep, services: ServicesDep) -> Response:
    """Deletes the tenant, its conversations (and their threads), its customers' memory and
    its knowledge base."""
    await erase_tenant(services, tenant.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
