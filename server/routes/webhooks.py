"""Twilio's WhatsApp webhooks: inbound messages and delivery status callbacks.

An inbound message is stored durably (unique per tenant on its MessageSid) and Twilio gets
`200 <Response/>` at once; the worker answers later. Bad requests get a clear 4xx with a
JSON `detail`, and are logged (never with the message body).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from checkpoints.inbox import InboundMessage
from checkpoints.records import TenantRecord
from config.settings import Settings
from server.channels.tenant_cache import TenantCache
from server.channels.twilio_account import twilio_account
from server.channels.twilio_inbound import (
    EMPTY_TWIML,
    FORM_CONTENT_TYPE,
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
# A form field that is present: some character other than what str.strip() removes
# (spelled out, so the pattern means the same in JSON Schema as in Python).
NOT_BLANK = (
    "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
FORBIDDEN = "missing or wrong X-Twilio-Signature"
# Checked against when no token applies, so such a request costs what any other does.
UNGUESSABLE_TOKEN = secrets.token_hex(32)


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
    """The tenant and the form of a webhook whose Twilio signature checks out.

    Nothing about the tenant shows before the signature: an unknown tenant is checked
    against the deployment's auth token (else a throwaway one), and a bad signature, an
    unknown tenant and a tenant without a token all get the same 403.
    """
    content_type = request.headers.get("content-type")
    params = parse_form(await read_body(request), content_type)
    services: Services = request.app.state.services
    cache: TenantCache | None = getattr(request.app.state, "webhook_tenants", None)
    if cache is None:
        cache = request.app.state.webhook_tenants = TenantCache(
            services.settings.webhook_tenant_cache_seconds
        )
    tenant = await cache.get(tenant_id, services.store.get_tenant)
    settings: Settings = services.settings
    if settings.webhook_validation:
        account = twilio_account(tenant or TenantRecord(id=tenant_id, name=""), settings)
        query = f"?{request.url.query}" if request.url.query else ""
        url = public_url(
            request.url.path + query,
            request.headers,
            scheme=request.url.scheme,
            public_base_url=settings.public_base_url,
        )
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature_valid(account.auth_token or UNGUESSABLE_TOKEN, url, params, signature):
            why = "no auth token to check" if not account.auth_token else "bad signature"
            raise BadWebhook(403, FORBIDDEN, why if tenant else f"unknown tenant ({why})")
    if tenant is None:
        raise BadWebhook(404, f"unknown tenant '{tenant_id}'")
    if not tenant.enabled:
        raise BadWebhook(403, f"tenant '{tenant_id}' is disabled")
    return tenant, params


def refused(error: BadWebhook, tenant_id: str, event: str) -> JSONResponse:
    log.warning(
        event,
        extra={
            "tenant_id": tenant_id,
            "status": error.status_code,
            "error": error.reason or error.detail,
        },
    )
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


def twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


def form_doc(required: dict[str, str], optional: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI of a Twilio webhook: its signed form, the signature header, its answers."""
    fields = {
        name: {"type": "string", "pattern": NOT_BLANK, "description": text}
        for name, text in required.items()
    }
    return {
        "parameters": [
            {
                "name": "X-Twilio-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "Twilio's signature of the URL and the form",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                FORM_CONTENT_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {**fields, **optional},
                        "required": list(required),
                        "additionalProperties": {"type": "string"},
                        "maxProperties": 100,
                    }
                }
            },
        },
    }


ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored (or a replay, ignored): an empty TwiML answer",
        "content": {"text/xml": {"schema": {"type": "string"}}},
    },
    400: {"description": "Unreadable form, or a required field is missing"},
    403: {
        "description": "Missing or wrong signature (an unknown tenant looks the same), or "
        "the tenant is disabled"
    },
    404: {
        "description": "Unknown tenant (signed with the deployment's token), or unknown "
        "MessageSid (status callback)"
    },
    413: {"description": f"Body larger than {MAX_WEBHOOK_BYTES} bytes"},
    415: {"description": f"Content type other than {FORM_CONTENT_TYPE}"},
}
MESSAGE_DOC = form_doc(
    {
        "MessageSid": "Twilio's message id",
        "From": "whatsapp:+<customer>",
        "To": "whatsapp:+<tenant>",
    },
    {
        "Body": {"type": "string"},
        "NumMedia": {"type": "string", "pattern": "^[0-9]*$", "description": "How many MediaUrlN"},
    },
)
STATUS_DOC = form_doc(
    {
        "MessageSid": "The outbound message's id",
        "MessageStatus": "sent, delivered, read, failed, ...",
    },
    {"ErrorCode": {"type": "string"}},
)


@router.post("/{tenant_id}", response_class=Response, responses=ANSWERS, openapi_extra=MESSAGE_DOC)
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


@router.post(
    "/{tenant_id}/status", response_class=Response, responses=ANSWERS, openapi_extra=STATUS_DOC
)
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
