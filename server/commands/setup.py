"""`atiende setup`: apply the migrations and create the knowledge-base collection."""

from __future__ import annotations

import asyncio


def setup() -> int:
    from config.settings import get_settings
    from server.services import open_services

    settings = get_settings()

    async def run() -> str:
        async with open_services(settings) as services:
            tenants = await services.store.list_tenants()
            return f"{services.persistence.backend} ready, {len(tenants)} tenant(s)"

    print(f"atiende setup: {asyncio.run(run())}")
    return 0
