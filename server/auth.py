"""Bearer-token authentication of the admin API.

`AdminKeyGate` checks the key of every `/admin` request before anything reads its body (in
FastAPI the body is read before dependencies run, so a dependency alone would read, say,
70 MB from anyone). `require_admin` applies the same check as a dependency of the admin
routers, which also declares the bearer scheme in the OpenAPI document.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from config.settings import PLACEHOLDER_SECRETS, Settings

ADMIN_PATH = "/admin"
UNAUTHORIZED = "missing or wrong admin key: send 'Authorization: Bearer <ADMIN_API_KEY>'"
CHALLENGE = {"WWW-Authenticate": "Bearer"}
# A refused request's body is never read: closing the connection stops its upload.
CLOSE = {"Connection": "close"}
_bearer = HTTPBearer(auto_error=False)


def effective_admin_key(settings: Settings) -> str:
    """ADMIN_API_KEY, or a fresh random key when it is unset or a placeholder (development)."""
    configured = settings.admin_api_key.get_secret_value()
    return secrets.token_urlsafe(24) if configured in PLACEHOLDER_SECRETS else configured


def admin_key_matches(authorization: str | None, expected: str) -> bool:
    """Whether an `Authorization` header value is `Bearer <expected>` (constant-time)."""
    scheme, _, credentials = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        credentials.strip().encode(), expected.encode()
    )


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/")


class AdminKeyGate:
    """Answer 401 to an `/admin` request without the admin key, before reading its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_admin_path(scope["path"]):
            expected: str = scope["app"].state.admin_key
            if not admin_key_matches(Headers(scope=scope).get("authorization"), expected):
                response = JSONResponse(
                    {"detail": UNAUTHORIZED}, status_code=401, headers={**CHALLENGE, **CLOSE}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def require_admin(
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Reject a request without `Authorization: Bearer <admin key>` (the bearer dependency
    only declares the scheme in the OpenAPI document)."""
    authorization = request.headers.get("authorization")
    if not admin_key_matches(authorization, request.app.state.admin_key):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED, headers=CHALLENGE)
