"""The app's error answers: `{"detail": ...}`, and for a malformed request also `errors`,
one `{"where", "problem"}` per problem."""

from __future__ import annotations

from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from server.services import ConversationBusy

INVALID_REQUEST = "invalid request"
BUSY = "the conversation is busy (a turn is running); try again in a moment"
BUSY_RETRY_SECONDS = 2
BUSY_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"description": f"Service unavailable: {BUSY} (Retry-After)"}
}


def forget(error: BaseException) -> None:
    """Let go of what an answered exception keeps alive. FastAPI raises some of them from a
    frame that holds them in a local (exception -> traceback -> frame -> exception): a
    reference cycle that would keep the request, its body and the body's decoded text (a
    JSON error's `doc`) in memory until a full garbage collection."""
    error.__traceback__ = None
    error.__cause__ = None
    error.__context__ = None


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in error.errors()
    ]
    forget(error)
    return JSONResponse(
        {"detail": INVALID_REQUEST, "errors": problems},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def unreadable_body(request: Request, error: Exception) -> JSONResponse:
    detail = f"request body is not valid UTF-8 JSON: {error}"
    forget(error)
    return JSONResponse({"detail": detail}, status_code=status.HTTP_400_BAD_REQUEST)


def allowed_methods(request: Request) -> str:
    """Every method of every route at the request's path (Starlette names the first only)."""
    methods = {
        method
        for route in request.app.router.routes
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE
        for method in route.methods or ()
    }
    return ", ".join(sorted(methods))


async def conversation_busy(request: Request, error: Exception) -> JSONResponse:
    """A running turn kept the conversation longer than the request could wait."""
    assert isinstance(error, ConversationBusy)
    forget(error)
    return JSONResponse(
        {"detail": BUSY},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
    )


async def http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    forget(error)
    headers = dict(error.headers or {})
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = allowed_methods(request)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)
