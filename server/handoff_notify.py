"""Handoff notifications: a signed JSON event POSTed to the tenant's webhook, retried with backoff.

Events (`handoff.created`, `handoff.reminder`, `handoff.released`) wait in the
`handoff_notifications` outbox, so none is lost to a restart. Each attempt is claimed with a
lease (one replica at a time), POSTed with

    X-Atiende-Event: handoff.created
    X-Atiende-Delivery: <notification id>          (the same on every retry: deduplicate)
    X-Atiende-Timestamp: <unix seconds>
    X-Atiende-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

and retried on any non-2xx answer or network error after 2, 4, 8, ... seconds, up to
`MAX_ATTEMPTS`; then it is `failed`, and the failure is an event of the conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from checkpoints.database import utc_now
from checkpoints.handoffs import HandoffNotification, HandoffStore
from checkpoints.records import TenantRecord
from server.services import Services

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Atiende-Signature"
TIMESTAMP_HEADER = "X-Atiende-Timestamp"
EVENT_HEADER = "X-Atiende-Event"
DELIVERY_HEADER = "X-Atiende-Delivery"
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
TIMEOUT_SECONDS = 5.0
SIGNATURE_TOLERANCE_SECONDS = 300
DEFAULT_REMINDER_MINUTES = 15.0
DEFAULT_RELEASE_MINUTES = 60.0
BACKGROUND_HORIZON_SECONDS = 60.0
"""The task started at a handoff keeps retrying this long; the periodic job does the rest."""

_background: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class HandoffPolicy:
    """A tenant's handoff settings that the server (not the graph) needs."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    reminder_seconds: float = DEFAULT_REMINDER_MINUTES * 60
    """Remind the agents after this long without agent activity (0: never)."""
    release_seconds: float = DEFAULT_RELEASE_MINUTES * 60
    """Give the conversation back to the bot after this long without agent activity (0: never)."""

    @classmethod
    def of(cls, tenant: TenantRecord) -> HandoffPolicy:
        """From `tenant.settings["handoff"]` (webhook_url, webhook_secret, *_minutes)."""
        rules: dict[str, Any] = tenant.settings.get("handoff") or {}

        def minutes(name: str, default: float) -> float:
            value = rules.get(name)
            try:
                return max(0.0, float(value if value is not None else default)) * 60
            except (TypeError, ValueError):
                return default * 60

        return cls(
            webhook_url=rules.get("webhook_url") or None,
            webhook_secret=rules.get("webhook_secret") or None,
            reminder_seconds=minutes("reminder_minutes", DEFAULT_REMINDER_MINUTES),
            release_seconds=minutes("release_minutes", DEFAULT_RELEASE_MINUTES),
        )

    @property
    def notifies(self) -> bool:
        return bool(self.webhook_url and self.webhook_secret)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the HMAC matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def backoff(attempt: int, base: float | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...)."""
    base = BACKOFF_BASE_SECONDS if base is None else base
    return min(BACKOFF_CAP_SECONDS, base * 2 ** (attempt - 1))


def event_body(notification: HandoffNotification) -> bytes:
    """The JSON body POSTed for a notification (the same bytes on every attempt)."""
    body = {
        "event": notification.event,
        "delivery_id": notification.id,
        "handoff_id": notification.handoff_id,
        "tenant_id": notification.tenant_id,
        "conversation_id": notification.conversation_id,
        "created_at": notification.created_at.isoformat(),
        **notification.payload,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


async def attempt(
    store: HandoffStore,
    tenant: TenantRecord | None,
    notification: HandoffNotification,
    client: httpx.AsyncClient,
    *,
    now: datetime,
    backoff_base: float | None = None,
) -> bool | None:
    """One attempt at one due notification: True sent, False failed (will retry or gave up),
    None when another process took this attempt."""
    lease = now + timedelta(seconds=TIMEOUT_SECONDS * 3)
    if not await store.claim_notification(notification, now, lease):
        return None
    attempts = notification.attempts + 1
    policy = HandoffPolicy.of(tenant) if tenant else HandoffPolicy()
    if not (policy.webhook_url and policy.webhook_secret):
        await store.notification_failed(notification.id, "no webhook configured", now, None)
        return False
    body = event_body(notification)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: notification.event,
        DELIVERY_HEADER: str(notification.id),
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(policy.webhook_secret, stamp, body),
    }
    try:
        response = await client.post(policy.webhook_url, content=body, headers=headers)
        error = None if response.is_success else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    done = utc_now()
    if error is None:
        await store.notification_sent(notification.id, done)
        log.info("handoff_notified", extra=_ids(notification))
        return True
    retry_at = None
    if attempts < MAX_ATTEMPTS:
        retry_at = done + timedelta(seconds=backoff(attempts, backoff_base))
    await store.notification_failed(notification.id, error, done, retry_at)
    log.warning(
        "handoff_notify_failed",
        extra={**_ids(notification), "error": error, "attempt": attempts, "final": not retry_at},
    )
    return False


async def deliver_due_notifications(
    services: Services,
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    backoff_base: float | None = None,
    conversation: tuple[str, str] | None = None,
) -> int:
    """Make one attempt at every due notification (of every tenant, or of one
    `(tenant_id, conversation_id)`); how many were sent."""
    store = HandoffStore(services.store.db)
    tenant_id, conversation_id = conversation or (None, None)
    due = await store.due_notifications(now, tenant_id=tenant_id, conversation_id=conversation_id)
    if not due:
        return 0
    tenants: dict[str, TenantRecord | None] = {}
    sent = 0
    async with _http(client) as http:
        for notification in due:
            if notification.tenant_id not in tenants:
                tenants[notification.tenant_id] = await services.store.get_tenant(
                    notification.tenant_id
                )
            outcome = await attempt(
                store,
                tenants[notification.tenant_id],
                notification,
                http,
                now=now,
                backoff_base=backoff_base,
            )
            sent += outcome is True
    return sent


async def deliver_conversation_notifications(
    services: Services,
    tenant_id: str,
    conversation_id: str,
    *,
    now: datetime | None = None,
    backoff_base: float | None = None,
    horizon_seconds: float = BACKGROUND_HORIZON_SECONDS,
) -> None:
    """Deliver a conversation's notifications due at `now` (default: the current time),
    retrying while the backoff is short; what is still pending afterwards is left to
    `deliver_due_notifications`."""
    store = HandoffStore(services.store.db)
    started = time.monotonic()
    at = now or utc_now()
    while True:
        await deliver_due_notifications(
            services, at, backoff_base=backoff_base, conversation=(tenant_id, conversation_id)
        )
        pending = [
            n
            for n in await store.notifications(tenant_id, conversation_id)
            if n.status == "pending"
        ]
        if not pending:
            return
        wait = max(0.0, (min(n.due_at for n in pending) - utc_now()).total_seconds())
        if time.monotonic() - started + wait > horizon_seconds:
            return
        await asyncio.sleep(wait)
        at = utc_now()


def notify_in_background(
    services: Services, tenant_id: str, conversation_id: str, now: datetime | None = None
) -> asyncio.Task[None]:
    """Start delivering the conversation's notifications (due at `now`) without holding up
    the caller."""

    async def run() -> None:
        try:
            await deliver_conversation_notifications(services, tenant_id, conversation_id, now=now)
        except Exception:
            log.exception(
                "handoff_notify_crashed",
                extra={"tenant_id": tenant_id, "conversation_id": conversation_id},
            )

    task = asyncio.create_task(run(), name=f"notify-{conversation_id}")
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def stop_background_notifications() -> None:
    """Cancel the delivery tasks still running (at shutdown; the outbox keeps their work)."""
    tasks = list(_background)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@asynccontextmanager
async def _http(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """The given client, or a new one closed on exit."""
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as own:
        yield own


def _ids(notification: HandoffNotification) -> dict[str, Any]:
    return {
        "tenant_id": notification.tenant_id,
        "conversation_id": notification.conversation_id,
        "event": notification.event,
    }
