"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from server.dependencies import ServicesDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/ready")
async def ready(services: ServicesDep) -> JSONResponse:
    """Checks the database and the knowledge base; 503 naming what failed."""
    failed: dict[str, str] = {}
    if not await services.persistence.ping():
        failed["database"] = "no answer to a trivial query"
    try:
        await asyncio.to_thread(services.knowledge.ping)
    except Exception as error:
        failed["qdrant"] = type(error).__name__
    if failed:
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    return JSONResponse({"status": "ready", "database": services.persistence.backend})
