"""Background jobs that run every few seconds while the server is up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


@asynccontextmanager
async def run_every(
    name: str, every_seconds: float, job: Callable[[], Awaitable[object]]
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `job` every `every_seconds` while inside; a failing round is logged, the next runs."""

    async def loop() -> None:
        while True:
            try:
                await job()
            except Exception as error:
                log.warning(f"{name}_failed", extra={"error": type(error).__name__})
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(loop(), name=f"atiende-{name}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
