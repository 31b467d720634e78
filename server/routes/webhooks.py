"""Twilio's WhatsApp webhooks: inbound messages and delivery status callbacks.

An inbound message is stored durably (unique per tenant on its MessageSid) and Twilio gets
`200 <Response/>` at once; the worker answers later. Bad requests get a clear 4xx with a
JSON `detail`, and are logged (never with the message body).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from checkpoints.inbox import InboundMessage
from checkpoints.records import TenantRecord
from config.settings import Settings
from server.channels.tenant_cache import TenantCache
from server.channels.twilio_account import twilio_account
from server.channels.twilio_inbound import (
    EMPTY_TWIML,
    MAX_WEBHOOK_BYTES,
    BadWebhook,
    FormParams,
    parse_form,
    parse_message,
    parse_status,
    public_url,
    signature_valid,
)
from server.services import Services

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/whatsapp", tags=["webhooks"])
SIGNATURE_HEADER = "x-twilio-signature"


async def read_body(request: Request) -> bytes:
    """The body, refusing more than MAX_WEBHOOK_BYTES without reading it all."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_WEBHOOK_BYTES:
        raise BadWebhook(413, f"request body larger than {MAX_WEBHOOK_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise BadWebhook(413, f"request body larger than {MAX_WEBHOOK_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_form(request: Request, tenant_id: str) -> tuple[TenantRecord, FormParams]:
    """The tenant and the form of a webhook whose Twilio signature checks out."""
    content_type = request.headers.get("content-type")
    params = parse_form(await read_body(request), content_type)
    services: Services = request.app.state.services
    cache: TenantCache | None = getattr(request.app.state, "webhook_tenants", None)
    if cache is None:
        cache = request.app.state.webhook_tenants = TenantCache(
            services.settings.webhook_tenant_cache_seconds
        )
    tenant = await cache.get(tenant_id, services.store.get_tenant)
    if tenant is None:
        raise BadWebhook(404, f"unknown tenant '{tenant_id}'")
    if not tenant.enabled:
        raise BadWebhook(403, f"tenant '{tenant_id}' is disabled")
    settings: Settings = services.settings
    if settings.webhook_validation:
        token = twilio_account(tenant, settings).auth_token
        if not token:
            raise BadWebhook(403, "no Twilio auth token configured to check the signature")
        query = f"?{request.url.query}" if request.url.query else ""
        url = public_url(
            request.url.path + query,
            request.headers,
            scheme=request.url.scheme,
            public_base_url=settings.public_base_url,
        )
        if not signature_valid(token, url, params, request.headers.get(SIGNATURE_HEADER, "")):
            raise BadWebhook(403, "missing or wrong X-Twilio-Signature")
    return tenant, params


def refused(error: BadWebhook, tenant_id: str, event: str) -> JSONResponse:
    log.warning(
        event, extra={"tenant_id": tenant_id, "status": error.status_code, "error": error.detail}
    )
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


def twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/{tenant_id}")
async def inbound_message(tenant_id: str, request: Request) -> Response:
    """Store a customer's message and acknowledge it; a replayed MessageSid is ignored."""
    try:
        tenant, params = await signed_form(request, tenant_id)
        message = parse_message(params)
    except BadWebhook as error:
        return refused(error, tenant_id, "webhook_refused")
    services: Services = request.app.state.services
    receipt = await services.inbox.receive(
        tenant.id,
        InboundMessage(
            external_id=message.message_sid,
            address=message.address,
            body=message.body,
            media=tuple(m.url for m in message.media),
        ),
    )
    if receipt is None:
        log.info("webhook_replay", extra={"tenant_id": tenant.id})
        return twiml()
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.nudge(tenant)
    return twiml()


@router.post("/{tenant_id}/status")
async def delivery_status(tenant_id: str, request: Request) -> Response:
    """Record a delivery status of an outbound message (only ever moving it forward)."""
    try:
        tenant, params = await signed_form(request, tenant_id)
        callback = parse_status(params)
    except BadWebhook as error:
        return refused(error, tenant_id, "status_callback_refused")
    services: Services = request.app.state.services
    moved = await services.inbox.record_delivery(tenant.id, callback.message_sid, callback.status)
    if moved is None:
        return refused(
            BadWebhook(404, f"unknown MessageSid '{callback.message_sid}'"),
            tenant.id,
            "status_callback_refused",
        )
    return twiml()
