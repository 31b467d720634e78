"""A short-lived cache of tenants for the webhook hot path (one query saved per request).

Entries live `ttl` seconds, so a change (disabling a tenant, new credentials) reaches every
replica within that time; 0 turns the cache off.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from checkpoints.records import TenantRecord

MAX_ENTRIES = 10_000


class TenantCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TenantRecord | None]] = {}

    async def get(
        self, tenant_id: str, load: Callable[[str], Awaitable[TenantRecord | None]]
    ) -> TenantRecord | None:
        """The tenant (None when unknown), from the cache when fresh, else from `load`."""
        if self.ttl <= 0:
            return await load(tenant_id)
        now = time.monotonic()
        entry = self._entries.get(tenant_id)
        if entry is not None and entry[0] > now:
            return entry[1]
        tenant = await load(tenant_id)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[tenant_id] = (now + self.ttl, tenant)
        return tenant
