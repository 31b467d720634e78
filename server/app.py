"""The FastAPI application factory; its lifespan opens and closes every client."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from checkpoints.running_server import RunningServer
from config.settings import Settings, get_settings
from server.auth import AdminKeyGate, effective_admin_key, require_admin
from server.body_limit import BodySizeLimit
from server.errors import conversation_busy, http_error, unreadable_body, validation_error
from server.handoff_notify import stop_background_notifications
from server.lifecycle import lifecycle_jobs
from server.openapi import documented
from server.ownership import handoff_jobs
from server.routes import (
    conversations,
    customers,
    handoffs,
    health,
    knowledge,
    lifecycle,
    tenants,
    usage,
    webhooks,
)
from server.services import ConversationBusy, open_services
from server.worker import run_worker
from tools.llm import close_llm_clients, warm_up_llm

GC_THRESHOLDS = (20_000, 20, 100)


def create_app(
    settings: Settings | None = None,
    admin_key: str | None = None,
    announce_url: str | None = None,
    banner: str = "",
) -> FastAPI:
    """An Atiende server.

    `admin_key` defaults to ADMIN_API_KEY (random in development). With `announce_url`, the
    server records where it listens in the data folder, so `atiende chat` can talk through it.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services, AsyncExitStack() as stack:
            app.state.services = services
            stack.push_async_callback(close_llm_clients)
            stack.push_async_callback(stop_background_notifications)
            await warm_up_llm(settings)
            if settings.worker_enabled:
                app.state.worker = await stack.enter_async_context(run_worker(services))
            await stack.enter_async_context(lifecycle_jobs(services))
            await stack.enter_async_context(handoff_jobs(services))
            # Everything loaded so far lives as long as the process: keep it out of the
            # garbage collector's full passes, which otherwise stall requests for ~100 ms.
            gc.collect()
            gc.freeze()
            # A turn allocates many short-lived objects: collect the young generation
            # less often (most of them are gone by then), so less time goes to the collector.
            thresholds = gc.get_threshold()
            gc.set_threshold(*GC_THRESHOLDS)
            if announce_url:
                RunningServer.write(settings.data_dir, announce_url, app.state.admin_key)
            if banner:
                print(banner, flush=True)
            try:
                yield
            finally:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
                if announce_url:
                    RunningServer.remove(settings.data_dir)

    app = FastAPI(title="Atiende", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.admin_key = admin_key or effective_admin_key(settings)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(UnicodeDecodeError, unreadable_body)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ConversationBusy, conversation_busy)
    # Added last, runs first: the admin key is checked before anything reads a body.
    app.add_middleware(BodySizeLimit)
    app.add_middleware(AdminKeyGate)
    app.include_router(health.router)
    app.include_router(webhooks.router)
    admin = [Depends(require_admin)]
    for module in (tenants, knowledge, conversations, handoffs, lifecycle, customers, usage):
        app.include_router(module.router, dependencies=admin)
    app.openapi = documented(app)  # type: ignore[method-assign]
    return app
