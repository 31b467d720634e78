"""Bearer-token authentication of the admin API."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from config.settings import PLACEHOLDER_SECRETS, Settings

_bearer = HTTPBearer(auto_error=False)


def effective_admin_key(settings: Settings) -> str:
    """ADMIN_API_KEY, or a fresh random key when it is unset or a placeholder (development)."""
    configured = settings.admin_api_key.get_secret_value()
    return secrets.token_urlsafe(24) if configured in PLACEHOLDER_SECRETS else configured


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Reject a request without `Authorization: Bearer <admin key>`."""
    expected: str = request.app.state.admin_key
    if credentials is None or not secrets.compare_digest(credentials.credentials, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong admin key: send 'Authorization: Bearer <ADMIN_API_KEY>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
